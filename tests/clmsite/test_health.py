import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_healthz_ok_on_working_services(client):
    # given a reachable database (and broker, or in-process tasks), then 200 with each state
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["broker"].startswith("ok")


def test_healthz_503_when_broker_is_down(client, settings):
    # given a broker URL where nothing listens, then 503 naming the broker as down
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("down")
    assert response.json()["database"] == "ok"


def test_healthz_503_when_database_is_down(client, monkeypatch):
    # given a database whose connection fails, then 503 naming the database as down
    from django.db import connection

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("down: OperationalError")
