"""Reads of segmentation runs: current segments, members, histories, transitions, chart data.

"Latest run" is the ready K-means run with the latest snapshot date. Campaigns call
`current_segments`, `customer_ids_in_segments` and `customer_ids_entered_segment`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, F, FloatField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Mod

from mlcore.models import CustomerFeatures, Segment, SegmentationRun, SegmentMembership, SegmentTransition


def latest_run(*, before: datetime | None = None) -> SegmentationRun | None:
    qs = SegmentationRun.objects.ready().filter(method=SegmentationRun.Method.KMEANS)
    if before is not None:
        qs = qs.filter(snapshot_at__lt=before)
    return qs.latest_first().first()


def current_segments() -> list[tuple[str, str]]:
    """(key, name) of every segment of the latest run, largest first; [] before the first run."""
    run = latest_run()
    if run is None:
        return []
    return list(run.segments.order_by("-size", "key").values_list("key", "name"))


def customer_ids_in_segments(*, segment_keys: list[str]) -> QuerySet:
    """Ids of the customers in any of these segments in the latest run (empty before the first run)."""
    run = latest_run()
    return SegmentMembership.objects.filter(run=run, segment__key__in=segment_keys).values_list("customer_id", flat=True)


def customer_ids_entered_segment(*, segment_key: str, since: datetime) -> QuerySet:
    """Customers in the segment in the latest run who were not in it in the last run before `since`.

    Without a run before `since`, every current member counts as having entered.
    """
    run = latest_run()
    current = SegmentMembership.objects.filter(run=run, segment__key=segment_key)
    before = latest_run(before=since)
    if before is not None and run is not None and before.pk != run.pk:
        earlier = SegmentMembership.objects.filter(run=before, segment__key=segment_key).values("customer_id")
        current = current.exclude(customer_id__in=earlier)
    elif before is not None:
        current = current.none()
    return current.values_list("customer_id", flat=True)


def run_entrants(*, run_id: int) -> QuerySet[SegmentMembership]:
    """Memberships of a run whose customer was not in a segment of the same key in its previous run."""
    previous_id = SegmentationRun.objects.filter(pk=run_id).values_list("previous_run_id", flat=True).first()
    rows = SegmentMembership.objects.filter(run_id=run_id)
    if previous_id is None:
        return rows
    stayed = SegmentMembership.objects.filter(run_id=previous_id, customer_id=OuterRef("customer_id"), segment__key=OuterRef("segment__key"))
    return rows.filter(~Exists(stayed))


def segment_list(*, run_id: int | None = None) -> QuerySet[Segment]:
    """Segments of a run (default: the latest), largest first."""
    run_id = run_id or getattr(latest_run(), "pk", None)
    return Segment.objects.filter(run_id=run_id).select_related("run").order_by("-size", "key")


def segment_mix(*, customer_ids: QuerySet, run_id: int | None = None) -> list[dict]:
    """How a group of customers (an audience) spreads over the segments of a run (default the
    latest): name, description and member count, largest first. Aggregates only (copy prompts)."""
    run_id = run_id or getattr(latest_run(), "pk", None)
    rows = (
        SegmentMembership.objects.filter(run_id=run_id, customer_id__in=customer_ids)
        .values("segment__name", "segment__description").annotate(members=Count("id")).order_by("-members", "segment__name")
    )
    return [{"name": r["segment__name"], "description": r["segment__description"], "members": r["members"]} for r in rows]


def segment_members(*, segment_id: int) -> QuerySet[SegmentMembership]:
    return SegmentMembership.objects.filter(segment_id=segment_id).select_related("customer")


def customer_segment_history(*, customer_id: int) -> QuerySet[SegmentMembership]:
    """The customer's segment in every ready run, newest first."""
    return (
        SegmentMembership.objects.filter(customer_id=customer_id, run__status=SegmentationRun.Status.READY)
        .select_related("segment", "run")
        .annotate(run_snapshot=F("run__snapshot_at"))  # a plain name the API's cursor can follow
        .order_by("-run_snapshot", "-run_id")
    )


@dataclass(frozen=True)
class TransitionMatrix:
    from_names: list[str]  # "(new)" first when there are customers new to this run
    to_names: list[str]
    counts: list[list[int]]


def transition_matrix(*, run_id: int) -> TransitionMatrix:
    rows = list(SegmentTransition.objects.filter(run_id=run_id).values_list("from_segment__name", "to_segment__name", "count"))
    to_names = list(Segment.objects.filter(run_id=run_id).order_by("-size", "key").values_list("name", flat=True))
    sources = sorted({src for src, _, _ in rows if src is not None})
    from_names = (["(new)"] if any(src is None for src, _, _ in rows) else []) + sources
    counts = [[0] * len(to_names) for _ in from_names]
    for src, dst, n in rows:
        counts[from_names.index(src or "(new)")][to_names.index(dst)] += n
    return TransitionMatrix(from_names=from_names, to_names=to_names, counts=counts)


def scatter_sample(*, run_id: int, size: int = 2000) -> list[dict]:
    """Recency and monetary value of an evenly spaced sample of the run's members, with segment."""
    run = SegmentationRun.objects.get(pk=run_id)
    members = SegmentMembership.objects.filter(run=run)
    total = members.count()
    step = max(1, total // size)
    sampled = members.annotate(bucket=Mod("customer_id", step)).filter(bucket=0).order_by("customer_id")
    picked = dict(sampled.values_list("customer_id", "segment__name")[:size])
    values = CustomerFeatures.objects.filter(snapshot_id=run.feature_snapshot_id, customer_id__in=list(picked))
    return [
        {"segment": picked[c], "recency_days": r, "monetary": m}
        for c, r, m in values.values_list("customer_id", "recency_days", "monetary")
    ]


def segment_sizes_over_time(*, runs: int = 12) -> dict:
    """Members per segment key in the last `runs` ready runs, oldest first (the dashboard chart).

    {"labels": ["2011-09-01", ...], "series": [{"key", "name", "sizes": [int | None per run]}]};
    a key absent from a run has None there. The name is the key's name in its latest run.
    """
    picked = list(SegmentationRun.objects.ready().filter(method=SegmentationRun.Method.KMEANS).latest_first()[:runs])[::-1]
    position = {run.pk: i for i, run in enumerate(picked)}
    series: dict[str, dict] = {}
    rows = Segment.objects.filter(run_id__in=position).order_by("run__snapshot_at", "-size").values_list("run_id", "key", "name", "size")
    for run_id, key, name, size in rows:
        entry = series.setdefault(key, {"key": key, "name": name, "sizes": [None] * len(picked)})
        entry["name"] = name
        entry["sizes"][position[run_id]] = size
    return {"labels": [f"{run.snapshot_at:%Y-%m-%d}" for run in picked], "series": list(series.values())}


def segment_revenue(*, run_id: int | None = None) -> list[dict]:
    """Net spend up to the run's snapshot per segment (from the run's feature snapshot), largest first."""
    run = SegmentationRun.objects.filter(pk=run_id).first() if run_id else latest_run()
    if run is None:
        return []
    members = SegmentMembership.objects.filter(segment_id=OuterRef(OuterRef("pk"))).values("customer_id")
    spend = (
        CustomerFeatures.objects.filter(snapshot_id=run.feature_snapshot_id, customer_id__in=Subquery(members))
        .order_by().values("snapshot_id").annotate(total=Sum("monetary")).values("total")
    )
    segments = Segment.objects.filter(run=run).annotate(revenue=Subquery(spend, output_field=FloatField())).order_by("-revenue", "key")
    return [
        {"key": s.key, "name": s.name, "customers": s.size, "revenue": s.revenue or 0.0, "revenue_share": s.revenue_share}
        for s in segments
    ]
