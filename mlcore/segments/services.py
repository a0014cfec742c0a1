"""Segmentation runs: features -> K-means -> named, identity-stable segments -> stored run.

`segmentation_run_build` is idempotent per snapshot date: a second call for a date that has
a ready run returns that run. Everything of a run (segments, memberships, transitions) is
written in one transaction, so a crash leaves no half run. The fitted scaler and centroids
are a ModelVersion of kind "segmentation", which the run points at.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict
from datetime import datetime

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from customers.clock import shop_as_of
from customers.money import money_format
from customers.webhooks.services import webhook_customers, webhook_event_emit, webhook_event_wanted
from infra.bulk import frame_insert
from infra.jobs import job_progress
from mlcore.features.services import feature_snapshot_build_with_frame
from mlcore.ml.segments.clustering import SegmentationConfig, SegmentationResult, fit_segments, match_previous
from mlcore.ml.segments.names import SegmentInfo, name_segments
from mlcore.models import Segment, SegmentationRun, SegmentMembership, SegmentTransition
from mlcore.registry import services as registry
from mlcore.segments.selectors import run_entrants

log = logging.getLogger(__name__)
STEPS = 4


class NothingToSegment(Exception):
    """No customer had a sale before the snapshot date."""


def default_snapshot_at() -> datetime:
    """The shop's today (customers.clock): one nightly run per day, whatever the hour."""
    return shop_as_of().moment


def segmentation_config() -> SegmentationConfig:
    k = settings.SEGMENTATION_K or None
    return SegmentationConfig(k=k)


def previous_identity(before: datetime, features: tuple[str, ...]) -> tuple[SegmentationRun | None, np.ndarray, list[tuple[str, str]]]:
    """The latest ready run before the date, its centroids (log units, in `features` order) and (key, name)."""
    run = SegmentationRun.objects.ready().filter(snapshot_at__lt=before).latest_first().first()
    if run is None:
        return None, np.empty((0, len(features))), []
    segments = [s for s in run.segments.order_by("position") if set(features) <= set(s.centroid)]
    names = [(s.key, s.name) for s in segments]
    centroids = np.array([[s.centroid[f] for f in features] for s in segments], dtype="float64").reshape(-1, len(features))
    return run, centroids, names


def inherited_identity(result: SegmentationResult, before: datetime, config: SegmentationConfig):
    """(previous run, new cluster index -> (key, name) of the matched previous segment)."""
    previous, centroids, names = previous_identity(before, result.scaler.features)
    matches = match_previous(result.centroids, centroids, result.scaler.std, config.match_max_distance)
    return previous, {new: names[old] for new, old in matches.items()}


def save_model_version(result: SegmentationResult, segments: list[SegmentInfo], snapshot_at: datetime, config: SegmentationConfig) -> int:
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()}
    mv = registry.model_version_create(kind="segmentation", params=params, data_window_end=snapshot_at)
    artefact = {
        "features": list(result.scaler.features), "mean": result.scaler.mean, "std": result.scaler.std,
        "centroids": result.centroids, "keys": [s.key for s in segments], "names": [s.name for s in segments],
    }
    metrics = {"silhouette": result.silhouette, "davies_bouldin": result.davies_bouldin, "k": result.k,
               "silhouette_by_k": {str(k): v for k, v in result.silhouette_by_k.items()}}
    registry.model_version_save_object(version_id=mv.pk, obj=artefact, metrics=metrics)
    registry.model_version_activate(version_id=mv.pk)
    return mv.pk


def store_segments(run: SegmentationRun, result: SegmentationResult, infos: list[SegmentInfo]) -> dict[int, int]:
    """Segment rows of the run; returns cluster index -> segment id."""
    features = result.scaler.features
    rows = [
        Segment(
            run=run, key=info.key, name=info.name, description=info.description, position=info.index, size=info.size,
            revenue_share=info.revenue_share, profile=info.profile,
            centroid={f: float(v) for f, v in zip(features, result.centroids[info.index], strict=True)},
        )
        for info in infos
    ]
    Segment.objects.bulk_create(rows)
    return {s.position: s.pk for s in Segment.objects.filter(run=run)}


def store_memberships(run: SegmentationRun, customer_ids: pd.Index, labels: np.ndarray, segment_ids: dict[int, int]) -> int:
    lookup = np.zeros(max(segment_ids) + 1, dtype="int64")
    for position, pk in segment_ids.items():
        lookup[position] = pk
    frame = pd.DataFrame({"run_id": run.pk, "customer_id": np.asarray(customer_ids, dtype="int64"), "segment_id": lookup[labels]})
    return frame_insert(model=SegmentMembership, frame=frame)


def store_transitions(run: SegmentationRun, previous: SegmentationRun | None) -> None:
    """Counts of (previous segment -> this segment), one set-based query over the memberships."""
    table = connection.ops.quote_name(SegmentMembership._meta.db_table)
    sql = (
        f"SELECT p.segment_id, n.segment_id, COUNT(*) FROM {table} n LEFT JOIN {table} p "
        f"ON p.customer_id = n.customer_id AND p.run_id = %s WHERE n.run_id = %s GROUP BY p.segment_id, n.segment_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [previous.pk if previous else -1, run.pk])
        counts = cursor.fetchall()
    SegmentTransition.objects.bulk_create(
        [SegmentTransition(run=run, from_segment_id=src, to_segment_id=dst, count=n) for src, dst, n in counts]
    )


@transaction.atomic
def segmentation_run_store(
    *, snapshot_at: datetime, snapshot_id: int | None, features: pd.DataFrame, result: SegmentationResult,
    config: SegmentationConfig, job_id: int | None = None,
) -> int:
    """Name the fitted segments (inheriting the previous run's identities) and write the run."""
    previous, inherited = inherited_identity(result, snapshot_at, config)
    infos = name_segments(features, result.labels, result.k, inherited=inherited,
                          money=lambda amount: money_format(amount, settings.SHOP_CURRENCY, places=0))
    version_id = save_model_version(result, infos, snapshot_at, config)
    SegmentationRun.objects.filter(method=SegmentationRun.Method.KMEANS, snapshot_at=snapshot_at).exclude(status=SegmentationRun.Status.READY).delete()
    run = SegmentationRun.objects.create(
        snapshot_at=snapshot_at, feature_snapshot_id=snapshot_id, model_version_id=version_id, previous_run=previous,
        k=result.k, customer_count=len(features), silhouette=result.silhouette, davies_bouldin=result.davies_bouldin,
        metrics={"silhouette_by_k": {str(k): v for k, v in result.silhouette_by_k.items()}, "inertia": result.inertia,
                 "matched_to_previous": len(inherited)},
    )
    segment_ids = store_segments(run, result, infos)
    store_memberships(run, features.index, result.labels, segment_ids)
    if job_id:
        job_progress(job_id=job_id, done=3, message="transitions")
    store_transitions(run, previous)
    run.status = SegmentationRun.Status.READY
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    segment_entered_emit(run_id=run.pk)
    return run.pk


def segment_entered_emit(*, run_id: int) -> int:
    """One segment.entered webhook per segment that customers entered in this run (not one per
    customer: a nightly run moves thousands); returns the events emitted."""
    if not webhook_event_wanted(event="segment.entered"):
        return 0
    entrants = run_entrants(run_id=run_id)
    counts = dict(entrants.order_by().values_list("segment_id").annotate(n=Count("id")))
    run = SegmentationRun.objects.get(pk=run_id)
    for segment in Segment.objects.filter(pk__in=counts).order_by("position"):
        ids = entrants.filter(segment_id=segment.pk).order_by("customer_id").values_list("customer__external_id", flat=True)
        webhook_event_emit(event="segment.entered", payload={
            "run_id": run_id, "snapshot_at": run.snapshot_at, "segment": {"id": segment.pk, "key": segment.key, "name": segment.name},
            "customers": webhook_customers(external_ids=ids, count=counts[segment.pk]),
        })
    return len(counts)


def segmentation_run_ready(*, snapshot_at: datetime) -> SegmentationRun | None:
    return SegmentationRun.objects.ready().filter(method=SegmentationRun.Method.KMEANS, snapshot_at=snapshot_at).first()


def segmentation_run_build(*, snapshot_at: datetime | None = None, job_id: int | None = None, config: SegmentationConfig | None = None) -> int:
    """Segment every customer at `snapshot_at` (default: today's midnight); returns the run id."""
    snapshot_at = snapshot_at or default_snapshot_at()
    progress = (lambda done, message: job_progress(job_id=job_id, done=done, total=STEPS, message=message)) if job_id else (lambda *a: None)
    existing = segmentation_run_ready(snapshot_at=snapshot_at)
    if existing is not None:
        progress(STEPS, f"run {existing.pk} of this date was already built")
        return existing.pk
    config = config or segmentation_config()
    started = time.monotonic()
    progress(0, "features")
    snapshot_id, features = feature_snapshot_build_with_frame(snapshot_at=snapshot_at)
    if len(features) <= (config.k or config.k_range[0]):
        raise NothingToSegment(f"Only {len(features)} customers with a sale before {snapshot_at:%Y-%m-%d %H:%M}: nothing to segment.")
    progress(1, "clustering")
    result = fit_segments(features, config)
    progress(2, "storing")
    run_id = segmentation_run_store(snapshot_at=snapshot_at, snapshot_id=snapshot_id, features=features, result=result, config=config, job_id=job_id)
    log.info("segmentation run %s: %d customers, k=%d in %.1f s", run_id, len(features), result.k, time.monotonic() - started)
    return run_id
