"""The feature snapshot built in shards of customer-id ranges (issue #17).

`feature_snapshot_plan` reads the shop-level part once (sales per category, every customer's order
days: `FeatureContext`), creates the snapshot row in status building (or adopts the building one
of that date and definition, so a stopped build resumes) with the context and the ranges in its
params. Each `feature_shard_write` reads its range's lines, reviews and events, computes its rows
(`customer_features` given the context: exactly the rows the whole shop's frame has) and replaces
that range's rows in one transaction, so a rerun changes nothing. `feature_snapshot_finish` marks
the snapshot ready with its customer count only when every planned range reported and the rows
are all there; until then no reader sees it (they read ready snapshots only).
`feature_snapshot_build_sharded` runs the three in one process, shard after shard (memory bounded
by the shard size); the `mlcore.build_features` task runs the shards as a chord on the ml queue.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction

from customers import selectors as shop
from infra import jobs
from infra.bulk import frame_insert
from infra.shards import shard_ranges
from mlcore.features.models import FEATURE_COLUMNS
from mlcore.features.selectors import review_signals_frame, support_events_frame
from mlcore.ml.features import FeatureConfig, FeatureContext, customer_features, feature_context_of
from mlcore.models import CustomerFeatures, FeatureSnapshot

log = logging.getLogger(__name__)


class FeatureShardsMissing(Exception):
    """The snapshot cannot be marked ready: a planned shard has not written its rows."""


@dataclass(frozen=True)
class FeatureBuildPlan:
    snapshot_id: int
    snapshot_at: str  # ISO
    ready: bool  # already built: nothing to run
    ranges: list[tuple[int, int]]
    customers: int

    def as_dict(self) -> dict:
        return asdict(self)


def empty_features() -> pd.DataFrame:
    return pd.DataFrame(columns=list(FEATURE_COLUMNS), index=pd.Index([], name="customer_id", dtype="int64"), dtype="float64")


def feature_snapshot_plan(*, snapshot_at: datetime, config: FeatureConfig, size: int | None = None) -> FeatureBuildPlan:
    """The snapshot of this date and definition: ready already, or building with its context and shards."""
    ready = FeatureSnapshot.objects.filter(snapshot_at=snapshot_at, definition=config.key, status=FeatureSnapshot.Status.READY).first()
    if ready is not None:
        return FeatureBuildPlan(ready.pk, ready.snapshot_at.isoformat(), True, [], ready.customer_count)
    started = time.monotonic()
    days = shop.purchase_days_frame(until=snapshot_at)
    context = feature_context_of(category_sales=shop.category_sales_totals(until=snapshot_at), days=days)
    ranges = shard_ranges(ids=days["customer_id"].to_numpy(), size=size or settings.FEATURE_SHARD_CUSTOMERS)
    customers = int(days["customer_id"].nunique())
    params = {**config.as_dict(), **context.as_dict(), "shards": [list(r) for r in ranges], "customers": customers,
              "plan_seconds": round(time.monotonic() - started, 3)}
    snapshot = snapshot_adopt(snapshot_at=snapshot_at, config=config, params=params)
    log.info("feature snapshot %s at %s: %d customers in %d shards", snapshot.pk, snapshot_at, customers, len(ranges))
    return FeatureBuildPlan(snapshot.pk, snapshot.snapshot_at.isoformat(), False, ranges, customers)


@transaction.atomic
def snapshot_adopt(*, snapshot_at: datetime, config: FeatureConfig, params: dict) -> FeatureSnapshot:
    """The building snapshot of this date and definition (its finished shards' rows kept), else a new one."""
    others = FeatureSnapshot.objects.filter(snapshot_at=snapshot_at, definition=config.key).exclude(status=FeatureSnapshot.Status.READY)
    snapshot = others.filter(status=FeatureSnapshot.Status.BUILDING).order_by("pk").first()
    stale = others.exclude(pk=getattr(snapshot, "pk", None))
    CustomerFeatures.objects.filter(snapshot__in=stale).delete()
    stale.delete()
    if snapshot is None:
        return FeatureSnapshot.objects.create(snapshot_at=snapshot_at, definition=config.key, feature_names=list(FEATURE_COLUMNS), params=params)
    snapshot.params = params
    snapshot.save(update_fields=["params"])
    return snapshot


def feature_shard_frame(*, snapshot: FeatureSnapshot, first_id: int, end_id: int) -> pd.DataFrame:
    """The features of the snapshot's customers with ids in [first_id, end_id), from their own lines and the stored context."""
    at = snapshot.snapshot_at
    lines = shop.order_lines_frame(until=at, first_id=first_id, end_id=end_id)
    if lines.empty:
        return empty_features()
    return customer_features(lines, snapshot=at, reviews=review_signals_frame(until=at, first_id=first_id, end_id=end_id),
                             events=support_events_frame(until=at, first_id=first_id, end_id=end_id),
                             config=FeatureConfig.of_dict(snapshot.params), context=FeatureContext.of_dict(snapshot.params))


def stored_columns(features: pd.DataFrame) -> pd.DataFrame:
    """The frame as rows of CustomerFeatures: customer_id plus every stored column (NaN if absent)."""
    out = features.reindex(columns=list(FEATURE_COLUMNS)).astype("float64")
    out.insert(0, "customer_id", np.asarray(features.index, dtype="int64"))
    return out.reset_index(drop=True)


def feature_shard_write(*, snapshot_id: int, first_id: int, end_id: int, job_id: int | None = None,
                        keep_frame: bool = False) -> dict:
    """Compute one range's rows and replace that range of the building snapshot's rows (safe to run again).

    Returns first_id, end_id, customers and seconds (and, with keep_frame, the frame: the in-process build).
    """
    snapshot = FeatureSnapshot.objects.filter(pk=snapshot_id).first()
    if snapshot is None or snapshot.status != FeatureSnapshot.Status.BUILDING:
        log.warning("feature shard [%s, %s): snapshot %s is %s; nothing written", first_id, end_id, snapshot_id,
                    getattr(snapshot, "status", "gone"))
        return {"first_id": first_id, "end_id": end_id, "customers": 0, "seconds": 0.0, "skipped": True}
    started = time.monotonic()
    features = feature_shard_frame(snapshot=snapshot, first_id=first_id, end_id=end_id)
    rows = stored_columns(features)
    rows.insert(0, "snapshot_id", snapshot.pk)
    with transaction.atomic():
        CustomerFeatures.objects.filter(snapshot_id=snapshot.pk, customer_id__gte=first_id, customer_id__lt=end_id).delete()
        frame_insert(model=CustomerFeatures, frame=rows)
    if job_id:
        jobs.job_progress(job_id=job_id, advance=len(features), message=f"features of customers {first_id}..{end_id - 1}")
    out = {"first_id": first_id, "end_id": end_id, "customers": len(features), "seconds": round(time.monotonic() - started, 3)}
    return {**out, "frame": features} if keep_frame else out


def feature_snapshot_finish(*, snapshot_id: int, results: list[dict]) -> FeatureSnapshot:
    """Mark the snapshot ready with its customer count once every planned shard is in (else FeatureShardsMissing)."""
    snapshot = FeatureSnapshot.objects.get(pk=snapshot_id)
    if snapshot.status == FeatureSnapshot.Status.READY:
        return snapshot
    planned = {tuple(r) for r in snapshot.params.get("shards", [])}
    missing = planned - {(r["first_id"], r["end_id"]) for r in results if not r.get("skipped")}
    rows = CustomerFeatures.objects.filter(snapshot_id=snapshot.pk).count()
    if missing or rows != snapshot.params.get("customers", rows):
        raise FeatureShardsMissing(f"snapshot {snapshot.pk}: {len(missing)} of {len(planned)} shards missing, "
                                   f"{rows} of {snapshot.params.get('customers')} customers written")
    twin = FeatureSnapshot.objects.filter(snapshot_at=snapshot.snapshot_at, definition=snapshot.definition, status=FeatureSnapshot.Status.READY).first()
    if twin is not None:  # a concurrent build of the same snapshot finished first (one ready per date and definition): keep that one
        CustomerFeatures.objects.filter(snapshot_id=snapshot.pk).delete()
        snapshot.delete()
        return twin
    seconds = snapshot.params.get("plan_seconds", 0.0) + sum(r.get("seconds", 0.0) for r in results)
    FeatureSnapshot.objects.filter(pk=snapshot.pk, status=FeatureSnapshot.Status.BUILDING).update(
        status=FeatureSnapshot.Status.READY, customer_count=rows, build_seconds=seconds)
    snapshot.refresh_from_db()
    log.info("feature snapshot %s at %s ready: %d customers, %d shards, %.1f s", snapshot.pk, snapshot.snapshot_at, rows, len(planned), seconds)
    return snapshot


def feature_snapshot_build_sharded(*, snapshot_at: datetime, config: FeatureConfig, size: int | None = None,
                                   job_id: int | None = None) -> tuple[int, pd.DataFrame | None]:
    """(snapshot id, its frame as stored, or None when it was ready already): the shards one after another here."""
    plan = feature_snapshot_plan(snapshot_at=snapshot_at, config=config, size=size)
    if plan.ready:
        return plan.snapshot_id, None
    if job_id:
        jobs.job_progress(job_id=job_id, done=0, total=plan.customers, message=f"features in {len(plan.ranges)} shards")
    results = [feature_shard_write(snapshot_id=plan.snapshot_id, first_id=a, end_id=b, job_id=job_id, keep_frame=True) for a, b in plan.ranges]
    feature_snapshot_finish(snapshot_id=plan.snapshot_id, results=results)
    frames = [r.pop("frame") for r in results]
    frame = pd.concat(frames).sort_index() if frames else empty_features()
    return plan.snapshot_id, stored_columns(frame).set_index("customer_id")
