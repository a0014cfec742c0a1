"""Feature snapshots: every customer's features at a date, stored as one immutable run.

The snapshot is the platform's one feature source: segmentation, churn training (older snapshots
as its cut-offs), scoring, the lifetime-value models and uplift read it. A snapshot is keyed by
its date and its definition (`FeatureConfig.key`): asking for one that is ready returns it, so
training on it is reproducible and a cut-off used again the next night is not rebuilt. Only data
from before `snapshot_at` is read (the selectors cut at the date, the pure builder cuts again).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime

import pandas as pd
from django.db import transaction
from django.utils import timezone

from customers import selectors as shop
from infra.bulk import frame_insert
from mlcore.features.models import FEATURE_COLUMNS
from mlcore.features.selectors import feature_snapshot_frame, review_signals_frame, support_events_frame
from mlcore.features.shards import empty_features, feature_snapshot_build_sharded, stored_columns
from mlcore.ml.features import FeatureConfig, as_utc, customer_features
from mlcore.models import CustomerFeatures, FeatureSnapshot
from mlcore.predictions.horizons import horizons_of, horizons_of_orders
from mlcore.registry import services as registry

log = logging.getLogger(__name__)


def feature_config_active() -> FeatureConfig | None:
    """The active churn model's definition (its window and recent days): scoring reads that snapshot."""
    active = registry.model_version_active(kind="churn")
    config = ((active.params or {}).get("config") or {}) if active is not None else {}
    return FeatureConfig.of_dict(config) if "window_days" in config else None


def feature_config_of_shop(*, lines: pd.DataFrame) -> FeatureConfig:
    """The definition for a shop without an active churn model: its horizons (settings first) measured on `lines`."""
    return FeatureConfig(window_days=horizons_of(lines).churn_window_days if len(lines) else FeatureConfig.window_days)


def feature_frame_compute(*, snapshot_at: datetime, config: FeatureConfig, lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every customer's FEATURE_COLUMNS at `snapshot_at` in one process: from `lines` when given (one read for many dates), else the shop's."""
    lines = shop.order_lines_frame(until=snapshot_at) if lines is None else lines
    if lines.empty:
        return empty_features()
    return customer_features(lines, snapshot=snapshot_at, reviews=review_signals_frame(until=snapshot_at),
                             events=support_events_frame(until=snapshot_at), config=config)


def feature_snapshot_ready(*, snapshot_at: datetime, config: FeatureConfig) -> FeatureSnapshot | None:
    return FeatureSnapshot.objects.filter(snapshot_at=snapshot_at, definition=config.key, status=FeatureSnapshot.Status.READY).first()


@transaction.atomic
def feature_snapshot_store(*, snapshot_at: datetime, features: pd.DataFrame, config: FeatureConfig = FeatureConfig(),
                           build_seconds: float | None = None) -> int:
    """Write a computed feature frame (index customer_id) as a ready snapshot; returns its id."""
    existing = feature_snapshot_ready(snapshot_at=snapshot_at, config=config)
    if existing is not None:
        return existing.pk
    FeatureSnapshot.objects.filter(snapshot_at=snapshot_at, definition=config.key).exclude(status=FeatureSnapshot.Status.READY).delete()
    params = {**config.as_dict(), "basket_vocabulary": list(features.attrs.get("basket_vocabulary", []))}
    snapshot = FeatureSnapshot.objects.create(
        snapshot_at=snapshot_at, definition=config.key, feature_names=list(FEATURE_COLUMNS), customer_count=len(features),
        params=params, build_seconds=build_seconds,
    )
    rows = stored_columns(features)
    rows.insert(0, "snapshot_id", snapshot.pk)
    frame_insert(model=CustomerFeatures, frame=rows)
    snapshot.status = FeatureSnapshot.Status.READY
    snapshot.save(update_fields=["status"])
    return snapshot.pk


def feature_config_resolve(*, snapshot_at: datetime, config: FeatureConfig | None = None) -> FeatureConfig:
    """The definition to build: `config`, else the active churn model's, else the shop's horizons' (from its purchase orders)."""
    if config is not None or (config := feature_config_active()) is not None:
        return config
    orders = shop.purchase_orders_frame(until=snapshot_at)  # the shop's cadence, not every line
    return FeatureConfig(window_days=horizons_of_orders(orders).churn_window_days if len(orders) else FeatureConfig.window_days)


def feature_snapshot_build_with_frame(*, snapshot_at: datetime, config: FeatureConfig | None = None,
                                      lines: pd.DataFrame | None = None) -> tuple[int, pd.DataFrame]:
    """(snapshot id, its feature frame): the stored one when ready, else built and stored.

    Given `lines` (the churn cut-offs' one read for many dates), computed from them in one process;
    else in shards of FEATURE_SHARD_CUSTOMERS read from the database (`mlcore.features.shards`).
    Without a config, the active churn model's definition, else the shop's horizons'.
    """
    if config is None and lines is not None and feature_config_active() is None:
        config = feature_config_of_shop(lines=lines)
    config = feature_config_resolve(snapshot_at=snapshot_at, config=config)
    existing = feature_snapshot_ready(snapshot_at=snapshot_at, config=config)
    if existing is not None:
        return existing.pk, feature_snapshot_frame(snapshot_id=existing.pk)
    if lines is None:
        snapshot_id, frame = feature_snapshot_build_sharded(snapshot_at=snapshot_at, config=config)
        return snapshot_id, frame if frame is not None else feature_snapshot_frame(snapshot_id=snapshot_id)
    started = time.monotonic()
    features = feature_frame_compute(snapshot_at=snapshot_at, config=config, lines=lines)
    seconds = time.monotonic() - started
    snapshot_id = feature_snapshot_store(snapshot_at=snapshot_at, features=features, config=config, build_seconds=seconds)
    log.info("feature snapshot %s at %s (%s): %d customers in %.1f s", snapshot_id, snapshot_at, config.key, len(features), seconds)
    return snapshot_id, stored_columns(features).set_index("customer_id")


def feature_snapshot_build(*, snapshot_at: datetime, config: FeatureConfig | None = None) -> int:
    """Build (or reuse) the feature snapshot at `snapshot_at`; returns its id (the rows are not read back)."""
    config = feature_config_resolve(snapshot_at=snapshot_at, config=config)
    return feature_snapshot_build_sharded(snapshot_at=snapshot_at, config=config)[0]  # its plan keeps a ready snapshot


def feature_snapshots_at(*, dates: list, config: FeatureConfig, lines: pd.DataFrame | None = None) -> dict[pd.Timestamp, pd.DataFrame]:
    """The feature frame at each date (UTC timestamps as keys): stored snapshots reused, the missing
    ones built from one read of the order lines (`lines` when the caller already has them)."""
    out, missing = {}, []
    for date in sorted({as_utc(d) for d in dates}):
        ready = feature_snapshot_ready(snapshot_at=date.to_pydatetime(), config=config)
        if ready is not None:
            out[date] = feature_snapshot_frame(snapshot_id=ready.pk)
        else:
            missing.append(date)
    if missing:
        lines = shop.order_lines_frame(until=max(missing).to_pydatetime()) if lines is None else lines
        for date in missing:
            out[date] = feature_snapshot_build_with_frame(snapshot_at=date.to_pydatetime(), config=config, lines=lines)[1]
    return out


def on_grid(moment: pd.Timestamp, grid_days: int) -> bool:
    return moment == moment.floor(f"{grid_days}D")


def feature_snapshots_prune(*, before: datetime, keep_days: int, grid_keep_days: int, grid_days: int, now: datetime | None = None) -> int:
    """Delete the snapshots no step reads again; returns how many.

    Daily snapshots off the cut-off grid go once older than `keep_days` (tonight's and the last
    days' stay for segmentation pages, scoring and uplift). Grid snapshots (the churn cut-offs)
    go once older than both `before` (the oldest cut-off the training just used: cut-offs only move
    forward) and `grid_keep_days` (the uplift model reads the last snapshot before each past send).
    A snapshot's rows go in one DELETE.
    """
    now = now or timezone.now()
    doomed = []
    for pk, at in FeatureSnapshot.objects.values_list("pk", "snapshot_at"):
        age = (now - at).days
        if (age > keep_days and not on_grid(as_utc(at), grid_days)) or (at < before and age > grid_keep_days):
            doomed.append(pk)
    if doomed:
        with transaction.atomic():
            CustomerFeatures.objects.filter(snapshot_id__in=doomed).delete()
            FeatureSnapshot.objects.filter(pk__in=doomed).delete()
        log.info("pruned %d feature snapshots", len(doomed))
    return len(doomed)
