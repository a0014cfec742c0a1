"""campaign.finished: a campaign that is sent or cancelled is announced once with its ledger counts."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.services.lifecycle import campaign_cancel, campaign_create, campaign_schedule, campaigns_dispatch_due
from tests.campaigns.factories import HTML, TEXT
from tests.conftest import emitted
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _campaign(slug: str):
    return campaign_create(name=slug.title(), slug=slug, holdout_share=0,
                           variants=[{"name": "A", "share": 100, "subject": "Hi", "html_body": HTML, "text_body": TEXT}])


def test_a_sent_campaign_emits_campaign_finished_once(webhook_subscriber, mailoutbox, django_capture_on_commit_callbacks):
    # given a due campaign for two customers, when dispatch runs twice, then one campaign.finished says sent with two sent deliveries
    CustomerFactory(), CustomerFactory()
    campaign = _campaign("due")
    campaign_schedule(campaign_id=campaign.pk, send_at=timezone.now() - dt.timedelta(minutes=1))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            campaigns_dispatch_due()
    [payload] = emitted("campaign.finished")
    assert payload["campaign"] == {"id": campaign.pk, "name": "Due", "slug": "due", "status": "sent"}
    assert payload["deliveries"] == {"sent": 2} and payload["finished_at"]


def test_a_cancelled_campaign_emits_campaign_finished_with_status_cancelled(webhook_subscriber):
    # given a scheduled campaign, when it is cancelled twice, then one campaign.finished says cancelled
    campaign = _campaign("later")
    campaign_schedule(campaign_id=campaign.pk, send_at=timezone.now() + dt.timedelta(days=1))
    assert campaign_cancel(campaign_id=campaign.pk) and not campaign_cancel(campaign_id=campaign.pk)
    assert [p["campaign"]["status"] for p in emitted("campaign.finished")] == ["cancelled"]
