import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from clmsite.checks import check_secret_key
from clmsite.envconfig import database_from_url, env_bool, env_str
from tests.conftest import ROOT


def test_dev_secret_key_refused_when_debug_off(settings):
    # given DEBUG off and the development key, then the system check reports an error
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    assert [e.id for e in check_secret_key()] == ["clmsite.E001"]


def test_real_secret_key_passes_when_debug_off(settings):
    # given DEBUG off and a real key, then no error
    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 50
    assert check_secret_key() == []


def test_manage_check_fails_with_dev_key_in_production():
    # given DEBUG=0 and no SECRET_KEY in the environment, when `manage.py check` runs, then it fails naming the key
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"DEBUG": "0"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "clmsite.E001" in result.stderr


def test_database_url_selects_postgres():
    # given a postgres URL, then the psycopg backend with its parts
    db = database_from_url("postgres://clm:s%40cret@db.example:5433/shop")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql", "shop", "clm", "s@cret", "db.example", "5433")


def test_bad_environment_values_name_the_variable(monkeypatch):
    # given an unparseable boolean or a missing required value, then the error names the variable
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG", False)
    with pytest.raises(ImproperlyConfigured, match="NOT_SET_ANYWHERE"):
        env_str("NOT_SET_ANYWHERE")
    with pytest.raises(ImproperlyConfigured, match="scheme"):
        database_from_url("mysql://x@y/z")


def test_embedded_default_runs_tasks_in_process(settings):
    # given no broker configured, then tasks run eagerly and propagate errors
    if os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is set: this run uses the real broker")
    assert settings.CELERY_TASK_ALWAYS_EAGER and settings.CELERY_TASK_EAGER_PROPAGATES


@pytest.mark.parametrize("env, expected", [
    ({"PORT": "8163"}, "http://127.0.0.1:8163"),
    ({"HOST": "localhost", "PORT": "9000"}, "http://localhost:9000"),
    ({"PORT": "8163", "SITE_URL": "https://shop.example.com/"}, "https://shop.example.com"),
])
def test_site_url_follows_the_served_port_unless_set(env, expected):
    # given the environment make demo passes (HOST/PORT) or an explicit SITE_URL, when settings load, then links start with that address
    clean = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT", "SITE_URL")} | env
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean | {"DJANGO_SETTINGS_MODULE": "clmsite.settings"}, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == expected, result.stderr


def test_api_docs_serve_swagger_ui_from_our_own_static_files(client):
    # given the API docs page, when it is opened, then Swagger UI's script and style come from the site's static files, not a CDN
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page and "cdn" not in page.lower()


def test_model_storage_backend_and_options_come_from_the_environment():
    # given MODEL_STORAGE_BACKEND and MODEL_STORAGE_OPTIONS (an object store on separate hosts, docs/deploy.md), when settings load, then STORAGES["models"] is that class with those options
    env = os.environ | {"MODEL_STORAGE_BACKEND": "django.core.files.storage.InMemoryStorage", "MODEL_STORAGE_OPTIONS": '{"location": "models/"}'}
    code = "import django; django.setup(); from django.core.files.storage import storages; s = storages['models']; print(type(s).__name__, s.base_location)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env | {"DJANGO_SETTINGS_MODULE": "clmsite.settings"}, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["InMemoryStorage", "models/"], result.stderr
