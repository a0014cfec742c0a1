"""Idempotency-Key on POSTs: a repeat replays, another body answers 422, keys are per credential."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from customers.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

CAMPAIGN = {
    "name": "Spring", "slug": "spring", "audience_rules": [{"key": "country", "params": {"countries": ["France"]}}],
    "variants": [{"name": "A", "share": 100, "subject": "Hi", "html_body": "<p>Hi</p>", "text_body": "Hi"}],
}


@pytest.fixture(autouse=True)
def french_customer():
    """The audience names a country the shop holds (unknown names are refused)."""
    from tests.customers.factories import CustomerFactory

    return CustomerFactory(country="France")


def test_repeat_replays_the_first_response_and_creates_nothing_more(api_client):
    # given a campaign POST with an Idempotency-Key, when it is sent twice, then one campaign and the same status and body twice
    first = api_client.post("/api/v1/campaigns", CAMPAIGN, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post("/api/v1/campaigns", CAMPAIGN, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content and again["Idempotent-Replayed"] == "true"
    assert Campaign.objects.count() == 1


def test_same_key_with_another_body_is_422(api_client):
    # given a stored POST, when the same key comes with another body, then 422 and nothing is created
    api_client.post("/api/v1/campaigns", CAMPAIGN, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = api_client.post("/api/v1/campaigns", {**CAMPAIGN, "slug": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 422 and "another request" in other.json()["detail"]
    assert Campaign.objects.count() == 1


def test_keys_are_per_credential_and_expire_after_24_hours(api_client, key_client):
    # given a key used by staff, when a partner key reuses it, and when the record is 25 h old, then each runs afresh
    api_client.post("/api/v1/campaigns", CAMPAIGN, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    partner = key_client("write:campaigns").post("/api/v1/campaigns", {**CAMPAIGN, "slug": "p"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert partner.status_code == 201 and "Idempotent-Replayed" not in partner
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    fresh = api_client.post("/api/v1/campaigns", {**CAMPAIGN, "slug": "later"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert fresh.status_code == 201 and Campaign.objects.count() == 3


def test_errors_are_replayed_but_refusals_are_not_stored(api_client, anon_client):
    # given a 400 POST and an anonymous 401 POST with keys, when repeated, then the 400 is replayed and the 401 left unstored
    bad = api_client.post("/api/v1/campaigns", {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert bad.status_code == 400
    assert api_client.post("/api/v1/campaigns", {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")["Idempotent-Replayed"] == "true"
    assert anon_client.post("/api/v1/campaigns", CAMPAIGN, format="json", HTTP_IDEMPOTENCY_KEY="k-5").status_code == 401
    assert not IdempotencyRecord.objects.filter(key="k-5").exists()
