"""Admin pages (editing, preview, test send, actions, ledger, report) and the API."""
from __future__ import annotations

import json
import time

import pytest

from campaigns.api.signing import bounce_signature
from campaigns.models import Campaign
from tests.campaigns.factories import DeliveryFactory, VariantFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_render(admin_user_client):
    # given a campaign with a delivery, when the list, change, report, ledger and customer pages open, then they render with their parts
    delivery = DeliveryFactory()
    cid = delivery.campaign_id
    assert admin_user_client.get("/admin/campaigns/campaign/").status_code == 200
    assert b"Preview / test send" in admin_user_client.get(f"/admin/campaigns/campaign/{cid}/change/").content
    report = admin_user_client.get(f"/admin/campaigns/campaign/{cid}/report/").content
    assert b"vendor/chart.umd.min.js" in report and b"funnel-chart" in report
    assert admin_user_client.get(f"/admin/campaigns/delivery/?campaign__id__exact={cid}").status_code == 200
    assert delivery.campaign.name.encode() in admin_user_client.get(f"/admin/customers/customer/{delivery.customer_id}/change/").content


def test_admin_preview_for_a_chosen_customer_and_test_send_to_staff_only(admin_user_client, mailoutbox):
    # given a campaign and a customer, when previewed for that customer and test-sent to the staff address and to a stranger, then the preview is personalised and only the staff send goes out
    variant = VariantFactory()
    customer = CustomerFactory(name="Fox Mulder", external_id="FOX1")
    url = f"/admin/campaigns/campaign/{variant.campaign_id}/preview/"
    page = admin_user_client.get(url, {"variant": variant.pk, "customer": "FOX1"}).content.decode()
    assert '<td id="message-subject">Fox, picked for you</td>' in page
    ok = admin_user_client.post(url, {"variant": variant.pk, "customer": str(customer.pk), "send_to": "root@example.com"})
    refused = admin_user_client.post(url, {"variant": variant.pk, "customer": "FOX1", "send_to": "stranger@example.net"})
    assert ok.status_code == 302 and refused.status_code == 200 and b"not the address of an active staff user" in refused.content
    assert [m.to for m in mailoutbox] == [["root@example.com"]]
    assert mailoutbox[0].subject == "[TEST] Fox, picked for you"


def test_admin_actions_schedule_pause_resume_cancel(admin_user_client):
    # given a draft campaign, when schedule, pause, resume and cancel actions run, then the status follows
    variant = VariantFactory()
    cid = variant.campaign_id
    statuses = []
    for action in ("schedule_selected", "pause_selected", "resume_selected", "cancel_selected"):
        admin_user_client.post("/admin/campaigns/campaign/", {"action": action, "_selected_action": [cid]})
        statuses.append(Campaign.objects.get(pk=cid).status)
    assert statuses == ["scheduled", "paused", "scheduled", "cancelled"]


def test_admin_edit_refuses_bad_audience_rules(admin_user_client):
    # given the add form, when saved with an unknown criterion, then the form shows the error naming it
    response = admin_user_client.post("/admin/campaigns/campaign/add/", {
        "name": "X", "slug": "x", "other_rules": '[{"key": "zodiac"}]', "holdout_share": "0.1", "seed": "1",
        "conversion_window_days": "7", "recommendations_count": "4", "throttle_per_minute": "0",
        "variants-TOTAL_FORMS": "1", "variants-INITIAL_FORMS": "0", "variants-MIN_NUM_FORMS": "1", "variants-MAX_NUM_FORMS": "4",
        "variants-0-name": "A", "variants-0-share": "100", "variants-0-subject": "s", "variants-0-html_body": "h", "variants-0-text_body": "t",
    })
    assert response.status_code == 200 and b"unknown criterion" in response.content
    assert not Campaign.objects.exists()


def test_api_create_schedule_report_and_criteria(api_client):
    # given the API, when a campaign is created, scheduled twice and its report read, then it is created, scheduled once (409 the second time) and reports a funnel
    CustomerFactory(country="France")
    body = {"name": "API", "slug": "api", "audience_rules": [{"key": "country", "params": {"countries": ["France"]}}],
            "variants": [{"name": "A", "share": 100, "subject": "s", "html_body": "<p>h</p>", "text_body": "t"}]}
    created = api_client.post("/api/v1/campaigns/", body, format="json")
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    assert api_client.post(f"/api/v1/campaigns/{cid}/schedule/", {}, format="json").json()["status"] == "scheduled"
    assert api_client.post(f"/api/v1/campaigns/{cid}/pause/", {}, format="json").status_code == 200
    assert api_client.post(f"/api/v1/campaigns/{cid}/pause/", {}, format="json").status_code == 409
    report = api_client.get(f"/api/v1/campaigns/{cid}/report/").json()
    assert report["funnel"] == [] and report["uplift"]["too_small_to_tell"]
    keys = {c["key"] for c in api_client.get("/api/v1/campaign-criteria/").json()}
    assert {"consent", "country", "last_order_before", "last_order_after", "has_bought_category", "order_count", "spend"} <= keys
    bad = api_client.post("/api/v1/campaigns/", {**body, "slug": "b", "audience_rules": [{"key": "nope"}]}, format="json")
    assert bad.status_code == 400 and "unknown criterion" in bad.content.decode()


def _signed(secret: str, body: bytes, at: float | None = None) -> dict:
    timestamp = str(int(time.time() if at is None else at))
    return {"HTTP_X_BOUNCE_TIMESTAMP": timestamp, "HTTP_X_BOUNCE_SIGNATURE": bounce_signature(secret=secret, timestamp=timestamp, body=body)}


def test_api_bounce_report_suppresses_and_anonymous_is_refused(api_client, anon_client, settings):
    # given a customer, when the provider reports a signed hard bounce, then the address is suppressed; an anonymous call gets 401
    settings.BOUNCE_SIGNING_SECRET = "provider-secret"
    customer = CustomerFactory(email="hb@example.com")
    body = json.dumps({"email": "hb@example.com"}).encode()
    response = anon_client.post("/api/v1/campaign-bounces", body, content_type="application/json", **_signed("provider-secret", body))
    assert response.status_code == 202
    customer.refresh_from_db()
    assert not customer.email_consent
    assert anon_client.get("/api/v1/campaigns/").status_code == 401


def test_api_bounce_refuses_user_tokens_bad_signatures_and_replays(api_client, anon_client, settings):
    # given a consenting customer, when a staff token, a wrong signature or an old signed call report a bounce, then 401 and consent stays
    settings.BOUNCE_SIGNING_SECRET = "provider-secret"
    customer = CustomerFactory(email="keep@example.com", email_consent=True)
    body = json.dumps({"email": "keep@example.com"}).encode()
    assert api_client.post("/api/v1/campaign-bounces", body, content_type="application/json").status_code == 401
    forged = _signed("another-secret", body)
    assert anon_client.post("/api/v1/campaign-bounces", body, content_type="application/json", **forged).status_code == 401
    stale = _signed("provider-secret", body, at=time.time() - 3600)
    assert anon_client.post("/api/v1/campaign-bounces", body, content_type="application/json", **stale).status_code == 401
    customer.refresh_from_db()
    assert customer.email_consent


def test_api_start_of_a_throttled_campaign_returns_without_waiting_for_the_throttle(api_client, mailoutbox, monkeypatch, settings, django_capture_on_commit_callbacks):
    # given no broker (tasks run inside the request, as on a server started without a worker) and a campaign throttled to one message a minute to 6 customers, when the partner starts it, then the answer is 'sending' at once: one message per lane went, the rest stay queued, and the request never slept (it was held past gunicorn's timeout: a 500 in CI)
    from campaigns import tasks
    from campaigns.models import Delivery

    settings.CAMPAIGN_SEND_CONCURRENCY = 2
    assert tasks.send_batch.app.conf.task_always_eager  # the suite's eager_celery fixture
    monkeypatch.setattr("campaigns.services.sending.time.sleep", lambda seconds: pytest.fail(f"the request slept {seconds} s"))
    for i in range(6):
        CustomerFactory(email=f"t{i}@example.com")
    variant = VariantFactory(campaign__holdout_share=0, campaign__throttle_per_minute=1, share=100)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/v1/campaigns/{variant.campaign_id}/start/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "sending"
    assert len(mailoutbox) == 2
    assert Delivery.objects.filter(status=Delivery.Status.QUEUED).count() == 4
    assert Campaign.objects.get().status == Campaign.Status.SENDING
