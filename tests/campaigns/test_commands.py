"""Management command of the demo campaign."""
import io

import pytest
from django.core.management import call_command

from campaigns.models import Campaign

pytestmark = pytest.mark.django_db


def test_create_demo_campaign_is_idempotent_and_previewable():
    # given an empty database, when the command runs twice, then one draft campaign with two variants exists
    out = io.StringIO()
    call_command("create_demo_campaign", stdout=out)
    call_command("create_demo_campaign", stdout=out)
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.DRAFT and campaign.variants.count() == 2
    assert "exists already" in out.getvalue()
