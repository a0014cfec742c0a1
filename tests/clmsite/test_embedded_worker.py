"""Due work on the embedded default: a real worker with beat on kombu's filesystem transport."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Delivery
from campaigns.services.lifecycle import campaign_schedule
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory
from tests.embedded import embedded_worker, mail_recipients

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_scheduled_campaign_goes_out_through_the_embedded_worker(tmp_path):
    # given a campaign scheduled a few seconds ahead and a worker with beat on the filesystem broker, when its time comes, then beat dispatches it, the worker sends every message and the campaign is sent
    for name in ("Alice Smith", "Bob Jones", "Cara Diaz"):
        CustomerFactory(name=name, email=f"{name.split()[0].lower()}@example.com")
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    with embedded_worker(tmp_path) as proc:
        campaign_schedule(campaign_id=variant.campaign_id, send_at=timezone.now() + timedelta(seconds=3))
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            if Campaign.objects.get(pk=variant.campaign_id).status not in (Campaign.Status.SCHEDULED, Campaign.Status.SENDING):
                break
            time.sleep(1)
    campaign = Campaign.objects.get(pk=variant.campaign_id)
    assert campaign.status == Campaign.Status.SENT, (tmp_path / "worker.log").read_text()[-3000:]
    assert Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT).count() == 3
    assert mail_recipients(tmp_path / "mail") == ["alice@example.com", "bob@example.com", "cara@example.com"]
