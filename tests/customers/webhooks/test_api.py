"""Webhook subscriptions through the API: create (secret answered once), list, pause, resume, deliveries."""
from __future__ import annotations

import pytest

from customers.webhooks import services
from customers.webhooks.models import WebhookSubscription

pytestmark = pytest.mark.django_db


def test_a_partner_subscribes_and_the_secret_is_answered_only_on_create(api_client, receiver):
    # given staff credentials, when a subscription is created and then read, then the secret is in the create answer only
    created = api_client.post("/api/v1/webhooks/", {"name": "crm", "url": receiver.url, "events": ["segment.entered", "review.negative"]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    read = api_client.get(f"/api/v1/webhooks/{created.json()['id']}/")
    assert read.status_code == 200 and "secret" not in read.json()
    assert read.json()["events"] == ["review.negative", "segment.entered"]
    assert api_client.get("/api/v1/webhooks/").json()["results"][0]["id"] == created.json()["id"]


def test_bad_urls_and_events_answer_400(api_client, settings):
    # given a non-http URL and an unknown event, when posted, then both answer 400 naming the problem
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    bad_url = api_client.post("/api/v1/webhooks/", {"name": "x", "url": "http://127.0.0.1/h", "events": ["import.finished"]}, format="json")
    bad_event = api_client.post("/api/v1/webhooks/", {"name": "x", "url": "https://example.com/h", "events": ["order.paid"]}, format="json")
    assert bad_url.status_code == 400 and "non-public" in str(bad_url.json())
    assert bad_event.status_code == 400 and not WebhookSubscription.objects.exists()


def test_pause_resume_and_the_delivery_log(api_client, receiver, django_capture_on_commit_callbacks):
    # given a subscription with one delivery, when paused twice, resumed and its deliveries read, then the state changes once each and the log shows the delivery
    sub = services.webhook_subscription_create(name="crm", url=receiver.url, events=["import.finished"], secret=receiver.secret)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(event="import.finished", payload={"batch_id": 3})
    assert api_client.post(f"/api/v1/webhooks/{sub.pk}/pause/").json()["is_active"] is False
    assert api_client.post(f"/api/v1/webhooks/{sub.pk}/pause/").status_code == 409
    assert api_client.post(f"/api/v1/webhooks/{sub.pk}/resume/").json()["is_active"] is True
    log = api_client.get(f"/api/v1/webhooks/{sub.pk}/deliveries/").json()["results"]
    assert [(d["event"], d["status"], d["payload"]) for d in log] == [("import.finished", "delivered", {"batch_id": 3})]


def test_a_non_staff_token_and_anonymous_callers_get_nothing(anon_client, django_user_model):
    # given an anonymous caller and a non-staff user's token, when they list webhooks, then 401 and 403
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    user = django_user_model.objects.create_user(username="plain", password="pw-plain-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert anon_client.get("/api/v1/webhooks/").status_code == 401
    assert client.get("/api/v1/webhooks/").status_code == 403


def test_views_declare_the_write_webhooks_scope():
    # given the scope convention, then the webhook views require write:webhooks for every method
    from customers.api.webhooks import WebhookSubscriptionViewSet

    assert WebhookSubscriptionViewSet.required_scopes == "write:webhooks"
