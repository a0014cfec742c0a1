"""Campaigns sent in waves: even first wave, Thompson shift after the minimum sample, a fixed
holdout, the same allocation from the same seeds, exactly-once across re-run waves, and the
honest status (sent only after the last wave)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Delivery, WaveAllocation
from campaigns.services.lifecycle import campaign_create, campaign_start, campaigns_dispatch_due, stalled_sending_ids
from campaigns.services.waves import wave_dispatch
from tests.campaigns.factories import HTML, TEXT
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db
GAP = 3600


def _variant(name: str) -> dict:
    return {"name": name, "share": 50, "subject": f"{name} {{{{ customer.first_name }}}}", "html_body": HTML, "text_body": TEXT}


def _campaign(slug: str, **fields) -> Campaign:
    options = {"holdout_share": Decimal("0.1"), "seed": 11, "bandit_seed": 99, "wave_count": 3, "first_wave_percent": 40, "wave_min_sample": 20} | fields
    return campaign_create(name=slug, slug=slug, variants=[_variant("A"), _variant("B")], **options)


def _click(campaign: Campaign, every: tuple[int, int] = (10, 2)) -> None:
    """By customer id, every tenth of A's recipients clicks and every second of B's (by default)."""
    for delivery in Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT, clicked_at__isnull=True).select_related("variant"):
        if delivery.customer_id % every[delivery.variant.name == "B"] == 0:
            Delivery.objects.filter(pk=delivery.pk).update(clicked_at=timezone.now(), click_count=1)


def _run_waves(campaign: Campaign, capture, start: dt.datetime, every: tuple[int, int] = (10, 2)) -> list[dict]:
    """Start, then click and dispatch each next wave when it is due; the dispatch results."""
    with capture(execute=True):
        campaign_start(campaign_id=campaign.pk, now=start)
    results, now = [], start
    for _ in range(campaign.wave_count - 1):
        _click(campaign, every)
        now = Campaign.objects.get(pk=campaign.pk).next_wave_at
        with capture(execute=True):
            results.append(campaigns_dispatch_due(now=now))
    _click(campaign, every)
    return results


@pytest.fixture
def customers(settings):
    settings.CAMPAIGN_WAVE_GAP_SECONDS = GAP
    return CustomerFactory.create_batch(300)


def test_first_wave_even_then_waits_for_the_gap(customers, mailoutbox, django_capture_on_commit_callbacks):
    # given a 3-wave campaign, when started, then only wave 1 is sent (evenly), the rest waits, the campaign stays sending with the next wave in GAP seconds
    campaign = _campaign("w1")
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk, now=start)
    campaign.refresh_from_db()
    first = WaveAllocation.objects.get(campaign=campaign, wave=1)
    assert campaign.status == Campaign.Status.SENDING and campaign.next_wave_at >= start + dt.timedelta(seconds=GAP)
    assert len(mailoutbox) == first.size and abs(first.counts["A"] - first.counts["B"]) <= 1 and not first.adaptive
    waiting = Delivery.objects.filter(campaign=campaign, status=Delivery.Status.WAITING)
    assert waiting.count() + first.size + Delivery.objects.filter(campaign=campaign, is_holdout=True).count() == 300
    assert not waiting.filter(variant__isnull=False).exists()
    # the watchdog does not treat the gap as a stalled send, and an early dispatch does nothing
    assert campaign.pk not in stalled_sending_ids(now=start + dt.timedelta(hours=1), stalled_after_s=1)
    assert wave_dispatch(campaign_id=campaign.pk, now=start + dt.timedelta(seconds=10)) is None


def test_waves_shift_to_the_better_variant_keep_the_holdout_and_send_once(customers, mailoutbox, django_capture_on_commit_callbacks):
    # given B clicking five times as often, when every wave runs, then later waves favour B, the holdout never changes, each recipient got one message and the campaign is sent only at the end
    campaign = _campaign("w2")
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk, now=start)
    holdout = set(Delivery.objects.filter(campaign=campaign, is_holdout=True).values_list("customer_id", flat=True))
    for wave in (2, 3):
        _click(campaign)
        assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENDING  # not "sent" while a wave waits
        due = Campaign.objects.get(pk=campaign.pk).next_wave_at
        with django_capture_on_commit_callbacks(execute=True):
            assert campaigns_dispatch_due(now=due)["waves"] == [campaign.pk]
            assert WaveAllocation.objects.filter(campaign=campaign, wave=wave).exists()
        with django_capture_on_commit_callbacks(execute=True):  # the same dispatch again: nothing moves
            assert campaigns_dispatch_due(now=due)["waves"] == []
            assert wave_dispatch(campaign_id=campaign.pk, now=due) is None
    allocations = list(WaveAllocation.objects.filter(campaign=campaign).order_by("wave"))
    assert [a.wave for a in allocations] == [1, 2, 3]
    assert allocations[1].adaptive and allocations[2].shares["B"] > 0.7
    assert set(Delivery.objects.filter(campaign=campaign, is_holdout=True).values_list("customer_id", flat=True)) == holdout
    recipients = Delivery.objects.filter(campaign=campaign, is_holdout=False)
    assert recipients.filter(status=Delivery.Status.SENT).count() == recipients.count() == len(mailoutbox)
    assert len({m.to[0] for m in mailoutbox}) == len(mailoutbox)  # nobody twice
    assert not recipients.filter(customer_id__in=holdout).exists()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT


def test_same_seeds_give_the_same_allocation(customers, django_capture_on_commit_callbacks):
    # given two campaigns with the same seeds, audience and click behaviour, when both run all waves, then every wave's allocation is equal; another bandit seed differs
    runs = {}
    for slug, bandit_seed in (("s1", 99), ("s2", 99), ("s3", 5)):
        campaign = _campaign(slug, bandit_seed=bandit_seed)
        _run_waves(campaign, django_capture_on_commit_callbacks, timezone.now(), every=(4, 3))
        runs[slug] = [(a.wave, a.counts) for a in WaveAllocation.objects.filter(campaign=campaign).order_by("wave")]
        runs[slug + "-who"] = sorted(Delivery.objects.filter(campaign=campaign, wave=3).values_list("customer_id", "variant__name"))
    assert runs["s1"] == runs["s2"] and runs["s1-who"] == runs["s2-who"]
    assert runs["s1-who"] != runs["s3-who"]


def test_minimum_sample_holds_the_even_split(customers, django_capture_on_commit_callbacks):
    # given a minimum sample above what the first wave gives each variant, when wave 2 runs, then it is still an even split saying why
    campaign = _campaign("m1", wave_min_sample=1000)
    _run_waves(campaign, django_capture_on_commit_callbacks, timezone.now())
    second = WaveAllocation.objects.get(campaign=campaign, wave=2)
    assert not second.adaptive and "below the minimum sample of 1000" in second.reason
    assert abs(second.counts["A"] - second.counts["B"]) <= 1


def test_cancel_between_waves_cancels_the_waiting_rows(customers, django_capture_on_commit_callbacks):
    # given a campaign between waves, when cancelled, then its waiting rows are cancelled and no wave is dispatched
    from campaigns.services.lifecycle import campaign_cancel

    campaign = _campaign("c1")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    assert campaign_cancel(campaign_id=campaign.pk)
    assert not Delivery.objects.filter(campaign=campaign, status=Delivery.Status.WAITING).exists()
    assert campaigns_dispatch_due(now=timezone.now() + dt.timedelta(days=1))["waves"] == []


def test_report_shows_the_allocation_per_wave_and_the_final_comparison(customers, admin_user_client, django_capture_on_commit_callbacks):
    # given a finished 3-wave campaign, when its admin report opens, then a row per wave with its bars, the comparison and the Qini reason are shown
    campaign = _campaign("r1")
    _run_waves(campaign, django_capture_on_commit_callbacks, timezone.now())
    page = admin_user_client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/").content.decode()
    assert 'id="wave-allocation"' in page and page.count('class="wave-bar"') == 3 * 2
    assert "Thompson sampling on the earlier waves" in page and "first wave: even split" in page
    assert 'id="wave-comparison"' in page and "P(best) now" in page
    assert "No Qini curve: no uplift model is trained yet" in page


def test_one_wave_campaign_report_has_no_wave_section(admin_user_client, django_capture_on_commit_callbacks):
    # given an ordinary campaign, when its report opens, then no wave table
    CustomerFactory()
    campaign = _campaign("r2", wave_count=1, holdout_share=Decimal("0"))
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    page = admin_user_client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/").content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT and 'id="wave-allocation"' not in page
