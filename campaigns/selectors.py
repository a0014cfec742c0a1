"""Reads of campaigns: the results report (funnel per variant, uplift against the holdout, A/B
test of variants) and a customer's campaign history.

Uplift compares recipients (sent) with the holdout on the same outcome: any non-cancelled order
within the campaign's conversion window after the send (for the holdout: after the campaign
started), so it measures what the mail caused, not what it was credited with.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Q, Sum

from campaigns import stats
from campaigns.audience import audience_queryset
from campaigns.models import Campaign, Conversion, Delivery, WaveAllocation
from customers.models import LINE_AMOUNT, OrderLine
from mlcore.ml.bandit import ArmCounts, probability_best, wave_rng

HOLDOUT = "holdout"
WAITING = "not yet in a wave"


def campaign_funnel(*, campaign_id: int) -> list[dict]:
    """One row per variant (and the holdout): selected, sent, opened, clicked, converted, revenue."""
    rows = (
        Delivery.objects.filter(campaign_id=campaign_id).values("variant__name", "is_holdout")
        .annotate(
            selected=Count("id"), sent=Count("id", filter=Q(status=Delivery.Status.SENT)),
            failed=Count("id", filter=Q(status=Delivery.Status.FAILED)), suppressed=Count("id", filter=Q(status=Delivery.Status.SUPPRESSED)),
            opened=Count("id", filter=Q(opened_at__isnull=False)), clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        ).order_by("is_holdout", "variant__name")
    )
    conversions = (
        Conversion.objects.filter(delivery__campaign_id=campaign_id).values("delivery__variant__name")
        .annotate(converted=Count("delivery_id", distinct=True), revenue=Sum("revenue"))
    )
    by_variant = {c["delivery__variant__name"]: c for c in conversions}
    funnel = []
    for row in rows:
        name = HOLDOUT if row["is_holdout"] else (row["variant__name"] or WAITING)
        conv = by_variant.get(row["variant__name"], {}) if not row["is_holdout"] else {}
        funnel.append({
            "variant": name, "selected": row["selected"], "sent": row["sent"], "failed": row["failed"], "suppressed": row["suppressed"],
            "opened": row["opened"], "clicked": row["clicked"],
            "converted": conv.get("converted", 0), "revenue": float(conv.get("revenue") or 0),
        })
    return funnel


def customer_outcomes(campaign: Campaign) -> dict[int, tuple[str, float]]:
    """Each recipient's (sent) and holdout member's arm and revenue within the window after the
    send (for the holdout: after the campaign started); 0 without an order."""
    window = timedelta(days=campaign.conversion_window_days)
    arms = Delivery.objects.filter(campaign=campaign).filter(Q(status=Delivery.Status.SENT) | Q(is_holdout=True))
    people = {cid: (HOLDOUT if hold else name, sent_at or campaign.started_at) for cid, hold, name, sent_at in arms.values_list("customer_id", "is_holdout", "variant__name", "sent_at")}
    revenue: dict[int, float] = defaultdict(float)
    if campaign.started_at:
        orders = (
            OrderLine.objects.net().filter(order__customer_id__in=arms.values("customer_id"), order__placed_at__gte=campaign.started_at)
            .values("order_id", "order__customer_id", "order__placed_at").annotate(r=Sum(LINE_AMOUNT))
        )
        for row in orders:
            customer_id = row["order__customer_id"]
            ref = people[customer_id][1]
            if ref and ref <= row["order__placed_at"] <= ref + window:
                revenue[customer_id] += float(row["r"] or 0)
    return {customer_id: (arm, revenue.get(customer_id, 0.0)) for customer_id, (arm, _) in people.items()}


def _outcomes(campaign: Campaign) -> dict[str, list[float]]:
    """Revenue within the window per customer, grouped by arm (variant name or holdout)."""
    # every variant is an arm, also one that reached nobody, so the report compares all that exist
    result: dict[str, list[float]] = {name: [] for name in campaign.variants.values_list("name", flat=True)}
    result.setdefault(HOLDOUT, [])
    for arm, value in customer_outcomes(campaign).values():
        result.setdefault(arm, []).append(value)
    return result


def _arm_stats(values: list[float]) -> dict:
    n = len(values)
    buyers = sum(1 for v in values if v > 0)
    return {"n": n, "converted": buyers, "conversion_rate": buyers / n if n else None, "revenue_per_recipient": sum(values) / n if n else None}


def campaign_uplift(*, campaign: Campaign, outcomes: dict[str, list[float]]) -> dict:
    holdout = outcomes.get(HOLDOUT, [])
    treated = [v for arm, values in outcomes.items() if arm != HOLDOUT for v in values]
    conversion = stats.diff_proportions_ci(sum(v > 0 for v in treated), len(treated), sum(v > 0 for v in holdout), len(holdout))
    revenue = stats.diff_means_ci(treated, holdout)
    return {
        "recipients": _arm_stats(treated), "holdout": _arm_stats(holdout),
        "conversion_uplift": conversion.as_dict() if conversion else None,
        "revenue_per_recipient_uplift": revenue.as_dict() if revenue else None,
        "too_small_to_tell": conversion is None or len(holdout) < 30 or len(treated) < 30,
        "window_days": campaign.conversion_window_days,
    }


def campaign_ab(*, outcomes: dict[str, list[float]]) -> list[dict]:
    """Each variant against the first one (alphabetically) on conversion within the window."""
    names = sorted(arm for arm in outcomes if arm != HOLDOUT)
    if len(names) < 2:
        return []
    base = outcomes[names[0]]
    tests = []
    for name in names[1:]:
        values = outcomes[name]
        test = stats.ab_test(sum(v > 0 for v in values), len(values), sum(v > 0 for v in base), len(base))
        tests.append({"variant": name, "against": names[0], **test})
    return tests


def campaign_report(*, campaign_id: int) -> dict:
    campaign = Campaign.objects.get(pk=campaign_id)
    outcomes = _outcomes(campaign)
    funnel = campaign_funnel(campaign_id=campaign_id)
    return {
        "campaign": {"id": campaign.pk, "name": campaign.name, "status": campaign.status, "status_label": campaign.get_status_display(),
                     "started_at": campaign.started_at, "finished_at": campaign.finished_at},
        "funnel": funnel,
        "totals": {key: sum(row[key] for row in funnel) for key in ("selected", "sent", "failed", "suppressed")},
        "failures": campaign_failures(campaign_id=campaign_id),
        "uplift": campaign_uplift(campaign=campaign, outcomes=outcomes),
        "ab_tests": campaign_ab(outcomes=outcomes),
        "waves": campaign_waves(campaign=campaign),
        "qini": _qini(campaign),
    }


def _qini(campaign: Campaign) -> dict:
    from campaigns.uplift import campaign_qini  # it reads this module's outcomes

    return campaign_qini(campaign=campaign)


def wave_arm_counts(*, campaign: Campaign) -> list[ArmCounts]:
    """Per variant (by name): recipients sent so far and of them, who clicked (or converted)."""
    success = Q(clicked_at__isnull=False) if campaign.wave_metric == Campaign.WaveMetric.CLICKS else Q(conversions__isnull=False)
    rows = (Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT).values("variant__name")
            .annotate(trials=Count("id", distinct=True), successes=Count("id", filter=success, distinct=True)))
    found = {r["variant__name"]: r for r in rows}
    return [ArmCounts(name, found.get(name, {}).get("trials", 0), found.get(name, {}).get("successes", 0))
            for name in campaign.variants.order_by("name").values_list("name", flat=True)]


def campaign_waves(*, campaign: Campaign) -> dict | None:
    """A campaign sent in waves: each wave's allocation and why, and the variants compared now on
    the bandit's metric (recipients sent, successes, rate, posterior probability of being best)."""
    if campaign.wave_count <= 1:
        return None
    allocations = list(WaveAllocation.objects.filter(campaign=campaign).order_by("wave"))
    names = list(campaign.variants.order_by("name").values_list("name", flat=True))
    arms = wave_arm_counts(campaign=campaign)
    best = probability_best(arms, rng=wave_rng(campaign.bandit_seed, 0, 2)) if any(a.trials for a in arms) else {}
    rows = [{"wave": a.wave, "size": a.size, "dispatched_at": a.dispatched_at, "adaptive": a.adaptive, "reason": a.reason,
             "cells": [{"variant": n, "count": a.counts.get(n, 0), "percent": 100 * a.shares.get(n, 0.0)} for n in names]} for a in allocations]
    comparison = [{"variant": a.name, "sent": a.trials, "successes": a.successes, "rate": a.successes / a.trials if a.trials else None,
                   "prob_best": best.get(a.name)} for a in arms]
    return {"metric": campaign.get_wave_metric_display(), "wave_count": campaign.wave_count, "variants": names, "allocations": rows,
            "comparison": comparison, "next_wave_at": campaign.next_wave_at, "min_sample": campaign.wave_min_sample}


def campaign_failures(*, campaign_id: int, limit: int = 10) -> list[dict]:
    """The most common delivery errors, so a failed send says why."""
    rows = (Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.FAILED).values("error")
            .annotate(n=Count("id")).order_by("-n")[:limit])
    return [{"error": row["error"][:300] or "(no message)", "n": row["n"]} for row in rows]


def customer_campaign_history(*, customer_id: int, limit: int = 20) -> list[Delivery]:
    return list(Delivery.objects.filter(customer_id=customer_id).select_related("campaign", "variant").order_by("-id")[:limit])


def campaign_outcome(*, campaign_id: int) -> dict:
    """Counts of the ledger and the status in words, e.g. "Sent with failures: 13 sent, 2 failed, 1 suppressed"."""
    campaign = Campaign.objects.get(pk=campaign_id)
    progress = campaign_progress(campaign_id=campaign_id)
    counts = {key: progress.get(key, 0) for key in ("sent", "failed", "suppressed")}
    words = ", ".join(f"{n} {key}" for key, n in counts.items())
    return {"status": campaign.status, **counts, "message": f"{campaign.get_status_display()}: {words}"}


def campaign_progress(*, campaign_id: int) -> dict[str, int]:
    return dict(Delivery.objects.filter(campaign_id=campaign_id).values_list("status").annotate(n=Count("id")).values_list("status", "n"))


def campaigns_recent(*, limit: int = 5) -> list[dict]:
    """The latest campaigns with their ledger counts and uplift against the holdout (dashboard)."""
    rows = []
    for campaign in Campaign.objects.order_by("-created_at", "-id")[:limit]:
        counts = campaign_progress(campaign_id=campaign.pk)
        uplift = campaign_uplift(campaign=campaign, outcomes=_outcomes(campaign)) if campaign.started_at else {}
        conversion, revenue = uplift.get("conversion_uplift"), uplift.get("revenue_per_recipient_uplift")
        rows.append({
            "id": campaign.pk, "name": campaign.name, "status": campaign.get_status_display(), "started_at": campaign.started_at,
            "sent": counts.get(Delivery.Status.SENT, 0), "failed": counts.get(Delivery.Status.FAILED, 0),
            "holdout": counts.get(Delivery.Status.HOLDOUT, 0),
            "conversion_uplift_pp": conversion["estimate"] * 100 if conversion else None,
            "revenue_uplift": revenue["estimate"] if revenue else None,
            "too_small_to_tell": uplift.get("too_small_to_tell", True),
        })
    return rows


def audience_size(*, rules: list[dict], holdout_share: float) -> dict:
    """How many customers the rules select now, and about how many get mail after the holdout."""
    customers = audience_queryset(rules).count()
    return {"customers": customers, "recipients": round(customers * (1 - holdout_share)), "holdout_share": holdout_share}
