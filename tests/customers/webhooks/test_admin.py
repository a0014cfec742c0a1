"""Webhook admin: create a subscription (secret shown once), pause/resume, read-only log with redeliver."""
from __future__ import annotations

import pytest

from customers.webhooks import services
from customers.webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db


def test_staff_create_a_subscription_in_the_admin_and_see_the_generated_secret(admin_user_client, receiver):
    # given the add form, when staff submit it without a secret, then the subscription exists and its generated secret is shown once
    response = admin_user_client.post("/admin/customers/webhooksubscription/add/", {"name": "crm", "url": receiver.url, "events": ["campaign.finished"], "secret": ""}, follow=True)
    sub = WebhookSubscription.objects.get()
    assert response.status_code == 200 and sub.events == ["campaign.finished"]
    assert sub.secret.encode() in response.content


def test_pause_and_resume_actions(admin_user_client, receiver):
    # given an active subscription, when staff pause then resume it from the list, then its state follows
    sub = services.webhook_subscription_create(name="crm", url=receiver.url, events=["campaign.finished"])
    admin_user_client.post("/admin/customers/webhooksubscription/", {"action": "pause", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert not sub.is_active and "root" in sub.paused_reason
    admin_user_client.post("/admin/customers/webhooksubscription/", {"action": "resume", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert sub.is_active


def test_delivery_log_is_read_only_and_redeliver_sends_again(admin_user_client, receiver, settings, django_capture_on_commit_callbacks):
    # given a failed delivery, when staff open the log and redeliver it, then the page lists it, no edit is possible, and the receiver gets it again
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    services.webhook_subscription_create(name="crm", url=receiver.url, events=["import.finished"], secret="whsec_test-secret")
    receiver.codes = [500]
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(event="import.finished", payload={"batch_id": 9})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    listing = admin_user_client.get("/admin/customers/webhookdelivery/")
    assert listing.status_code == 200 and b"import.finished" in listing.content
    assert admin_user_client.get("/admin/customers/webhookdelivery/add/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        admin_user_client.post("/admin/customers/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.received) == 2
