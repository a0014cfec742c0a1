"""Campaigns sent in waves, with Thompson sampling shifting later waves to the better variant.

A campaign with `wave_count` > 1 freezes its whole ledger at start as usual: the holdout is
assigned once (the same seeded hash as a one-wave campaign) and never changes; each recipient
gets a wave number; the first wave's rows are split evenly among the variants and queued, the
others wait (status `waiting`, no variant yet). When a wave has no row left to send, the
campaign stays `sending` with `next_wave_at` = now + CAMPAIGN_WAVE_GAP_SECONDS; the dispatcher
(`campaigns.dispatch_due`, beat) then plans the next wave from the earlier waves' results
(`mlcore.ml.bandit.plan_wave`: Beta posteriors on clicks or attributed conversions, the
campaign's `bandit_seed`, no shift before every variant has `wave_min_sample` recipients),
stores the allocation (`WaveAllocation`, one per wave) and queues the rows. The campaign is
`sent` only once the last wave is done.

Exactly-once is the ledger's as before: one Delivery per campaign and customer, and a wave
moves only rows still `waiting` (a conditional UPDATE under the campaign's row lock), so a
re-run dispatch moves nothing and sends nothing twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.assignment import assign_waves
from campaigns.models import Campaign, Delivery, WaveAllocation
from campaigns.selectors import wave_arm_counts
from mlcore.ml.bandit import ArmCounts, WavePlan, plan_wave, wave_sizes

CHUNK = 5_000  # ids per UPDATE (SQLite caps bound variables)


def ledger_waves(campaign: Campaign, recipient_ids: list[int]) -> dict[int, int]:
    """Wave number of each recipient (all in wave 1 for a one-wave campaign)."""
    sizes = wave_sizes(len(recipient_ids), wave_count=campaign.wave_count, first_share=campaign.first_wave_percent / 100)
    return assign_waves(seed=campaign.seed, customer_ids=recipient_ids, sizes=sizes)


def _store(campaign: Campaign, wave: int, plan: WavePlan, arms: list[ArmCounts], now: datetime) -> None:
    evidence = {a.name: {"trials": a.trials, "successes": a.successes, "prob_best": plan.prob_best[a.name]} for a in arms}
    WaveAllocation.objects.create(
        campaign=campaign, wave=wave, size=sum(plan.counts.values()), counts=plan.counts, shares=plan.shares,
        adaptive=plan.adaptive, reason=plan.reason, evidence=evidence, dispatched_at=now,
    )


def wave_plan(campaign: Campaign, wave: int, customer_ids: list[int]) -> tuple[WavePlan, list[ArmCounts], dict[int, str]]:
    """The plan of `wave` over these customers (sorted by id) and each one's variant name."""
    arms = wave_arm_counts(campaign=campaign)
    ids = sorted(customer_ids)
    plan, picks = plan_wave(arms, len(ids), wave=wave, seed=campaign.bandit_seed, min_sample=campaign.wave_min_sample, adaptive=campaign.wave_adaptive)
    names = [a.name for a in arms]
    return plan, arms, {cid: names[i] for cid, i in zip(ids, np.asarray(picks).tolist(), strict=True)}


def first_wave_variants(campaign: Campaign, customer_ids: list[int], now: datetime) -> dict[int, str]:
    """Variant names of the first wave (the even split), its allocation stored."""
    plan, arms, names = wave_plan(campaign, 1, customer_ids)
    _store(campaign, 1, plan, arms, now)
    return names


def wave_next_schedule(*, campaign_id: int, now: datetime) -> bool:
    """A wave is done and rows still wait: set when the next goes (once). True if rows wait."""
    if not Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.WAITING).exists():
        return False
    gap = timedelta(seconds=settings.CAMPAIGN_WAVE_GAP_SECONDS)
    Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING, next_wave_at__isnull=True).update(next_wave_at=now + gap, updated_at=now)
    return True


@transaction.atomic
def wave_dispatch(*, campaign_id: int, now: datetime | None = None) -> int | None:
    """Plan and queue the next wave of a campaign whose `next_wave_at` has come; its number or None."""
    from campaigns.services.lifecycle import enqueue_sending

    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.status != Campaign.Status.SENDING or campaign.next_wave_at is None or campaign.next_wave_at > now:
        return None
    waiting = Delivery.objects.filter(campaign=campaign, status=Delivery.Status.WAITING)
    wave = waiting.order_by("wave").values_list("wave", flat=True).first()
    if wave is None:
        return None
    ids = list(waiting.filter(wave=wave).values_list("customer_id", flat=True))
    plan, arms, names = wave_plan(campaign, wave, ids)
    _store(campaign, wave, plan, arms, now)
    variant_ids = dict(campaign.variants.values_list("name", "pk"))
    for name, variant_id in variant_ids.items():
        chosen = [cid for cid, n in names.items() if n == name]
        for start in range(0, len(chosen), CHUNK):
            waiting.filter(wave=wave, customer_id__in=chosen[start:start + CHUNK]).update(variant_id=variant_id, status=Delivery.Status.QUEUED)
    campaign.next_wave_at, campaign.last_batch_at = None, now
    campaign.save(update_fields=["next_wave_at", "last_batch_at", "updated_at"])
    transaction.on_commit(lambda: enqueue_sending(campaign_id))
    return wave


def waves_dispatch_due(*, now: datetime) -> list[int]:
    """Dispatch every due next wave; the campaigns that got one."""
    due = Campaign.objects.filter(status=Campaign.Status.SENDING, next_wave_at__lte=now).values_list("pk", flat=True)
    return [pk for pk in list(due) if wave_dispatch(campaign_id=pk, now=now) is not None]
