"""Campaign lifecycle: create, schedule, dispatch of due and recurring campaigns, watchdog."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import Campaign, Delivery
from campaigns.services.lifecycle import campaign_create, campaign_schedule, campaigns_dispatch_due, next_occurrence
from tests.campaigns.factories import HTML, TEXT, CampaignFactory, VariantFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def _variant(name: str, share: int = 50) -> dict:
    return {"name": name, "share": share, "subject": "Hi {{ customer.first_name }}", "html_body": HTML, "text_body": TEXT}


def test_create_refuses_more_than_four_variants_and_bad_rules():
    # given five variants or an unknown rule, when a campaign is created, then it is refused naming the problem
    with pytest.raises(ValidationError, match="at most 4 variants"):
        campaign_create(name="X", slug="x", variants=[_variant(n) for n in "ABCDE"])
    with pytest.raises(ValidationError, match="unknown criterion"):
        campaign_create(name="Y", slug="y", variants=[_variant("A")], audience_rules=[{"key": "zodiac"}])


def _dispatch(capture, now=None) -> dict:
    with capture(execute=True):
        return campaigns_dispatch_due(now=now)


def test_schedule_then_dispatch_starts_only_due_campaigns(mailoutbox, django_capture_on_commit_callbacks):
    # given one campaign due now and one due tomorrow, when dispatch runs twice, then only the due one is sent, once
    CustomerFactory()
    now = timezone.now()
    due = campaign_create(name="Due", slug="due", variants=[_variant("A", 100)], holdout_share=0)
    later = campaign_create(name="Later", slug="later", variants=[_variant("A", 100)])
    campaign_schedule(campaign_id=due.pk, send_at=now - dt.timedelta(minutes=1))
    campaign_schedule(campaign_id=later.pk, send_at=now + dt.timedelta(days=1))
    first = _dispatch(django_capture_on_commit_callbacks, now)
    second = _dispatch(django_capture_on_commit_callbacks, now)
    assert first["started"] == [due.pk] and second["started"] == []
    assert Campaign.objects.get(pk=due.pk).status == Campaign.Status.SENT
    assert Campaign.objects.get(pk=later.pk).status == Campaign.Status.SCHEDULED
    assert len(mailoutbox) == 1


def test_schedule_only_from_draft_and_needs_a_variant():
    # given a campaign without variants and one already scheduled, when scheduled, then both are refused
    bare = CampaignFactory()
    with pytest.raises(ValidationError, match="at least one variant"):
        campaign_schedule(campaign_id=bare.pk)
    variant = VariantFactory()
    campaign_schedule(campaign_id=variant.campaign_id)
    with pytest.raises(ValidationError, match="only a draft"):
        campaign_schedule(campaign_id=variant.campaign_id)


def test_next_weekly_occurrence_is_in_the_shop_timezone_across_dst():
    # given every Monday 09:00 London, when asked after a Sunday in March before the clocks change and in July, then the next run is Monday 09:00 local (08:00 UTC in summer)
    campaign = Campaign(recurrence=Campaign.Recurrence.WEEKLY, recurrence_weekday=0, recurrence_time=dt.time(9, 0))
    winter = next_occurrence(campaign, dt.datetime(2026, 3, 22, 12, 0, tzinfo=dt.UTC))
    summer = next_occurrence(campaign, dt.datetime(2026, 7, 6, 9, 30, tzinfo=LONDON))
    assert winter == dt.datetime(2026, 3, 23, 9, 0, tzinfo=LONDON) and winter.utcoffset() == dt.timedelta(0)
    assert summer == dt.datetime(2026, 7, 13, 9, 0, tzinfo=LONDON)
    assert summer.astimezone(dt.UTC).hour == 8


def test_recurring_campaign_runs_once_per_occurrence_to_new_entrants_only(mailoutbox, django_capture_on_commit_callbacks):
    # given a weekly recurring campaign, when dispatch runs twice at the first occurrence and again a week later after a new customer joined, then each run goes to new entrants only, once
    CustomerFactory(email="old@example.com")
    parent = campaign_create(name="Weekly", slug="weekly", variants=[_variant("A", 100)], holdout_share=0,
                             recurrence=Campaign.Recurrence.WEEKLY, recurrence_weekday=0, recurrence_time=dt.time(9, 0))
    campaign_schedule(campaign_id=parent.pk, now=dt.datetime(2026, 3, 1, 12, 0, tzinfo=LONDON))
    first_run_at = Campaign.objects.get(pk=parent.pk).next_run_at
    assert first_run_at == dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)
    runs = _dispatch(django_capture_on_commit_callbacks, first_run_at)["runs"] + _dispatch(django_capture_on_commit_callbacks, first_run_at)["runs"]
    CustomerFactory(email="new@example.com")
    runs += _dispatch(django_capture_on_commit_callbacks, first_run_at + dt.timedelta(days=7))["runs"]
    assert len(runs) == 2
    assert [m.to[0] for m in mailoutbox] == ["old@example.com", "new@example.com"]
    assert Delivery.objects.filter(campaign__parent=parent).count() == 2
    assert Campaign.objects.get(pk=parent.pk).status == Campaign.Status.SCHEDULED


def test_a_chain_waiting_for_its_next_throttled_slot_is_not_stalled(settings):
    # given a campaign throttled to one message a minute over 2 lanes (each lane waits 2 minutes a slot; stall limit 2 minutes), when its last batch was 3 minutes ago, then the watchdog leaves it; at 5 minutes it is stalled
    settings.CAMPAIGN_STALL_SECONDS, settings.CAMPAIGN_SEND_CONCURRENCY = 120, 2
    from campaigns.services.lifecycle import stalled_sending_ids

    now = timezone.now()
    campaign = VariantFactory(campaign__status=Campaign.Status.SENDING, campaign__throttle_per_minute=1).campaign
    Campaign.objects.filter(pk=campaign.pk).update(last_batch_at=now - dt.timedelta(minutes=3))
    assert stalled_sending_ids(now=now) == []
    Campaign.objects.filter(pk=campaign.pk).update(last_batch_at=now - dt.timedelta(minutes=5))
    assert stalled_sending_ids(now=now) == [campaign.pk]


def test_dispatch_restarts_a_stalled_sending_campaign(settings, mailoutbox, django_capture_on_commit_callbacks):
    # given a sending campaign whose batch chain died (no progress for longer than the stall limit), when dispatch runs, then sending is restarted and finishes
    settings.CAMPAIGN_STALL_SECONDS = 60
    CustomerFactory()
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    from campaigns.services.lifecycle import campaign_start

    campaign_start(campaign_id=variant.campaign_id)  # on_commit not run: the chain "died"
    Campaign.objects.update(last_batch_at=timezone.now() - dt.timedelta(minutes=5))
    result = _dispatch(django_capture_on_commit_callbacks)
    assert result["restarted"] == [variant.campaign_id]
    assert len(mailoutbox) == 1 and Campaign.objects.get().status == Campaign.Status.SENT
