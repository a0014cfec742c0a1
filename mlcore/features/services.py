"""Feature snapshots: build every customer's features at a date and store them as one run.

A snapshot is immutable: building one for a date that already has a ready snapshot returns
that one, so training on it is reproducible. Only data from before `snapshot_at` is read
(selectors cut at the date, the pure builder cuts again).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime

import numpy as np
import pandas as pd
from django.db import transaction

from customers import selectors as shop
from infra.bulk import frame_insert
from mlcore.features.models import FEATURE_COLUMNS
from mlcore.features.selectors import feature_snapshot_frame
from mlcore.feedback.selectors import customer_sentiment_frame
from mlcore.ml.features import FeatureConfig, build_customer_features
from mlcore.models import CustomerFeatures, FeatureSnapshot

log = logging.getLogger(__name__)


def feature_frame_compute(*, snapshot_at: datetime, config: FeatureConfig = FeatureConfig()) -> pd.DataFrame:
    """Features of every customer with a sale before `snapshot_at`, read from the shop's tables.

    The review columns come from review intelligence: review count, mean rating and the recent
    mean sentiment score of the customer's scored reviews, all from before `snapshot_at`.
    """
    lines = shop.order_lines_frame(until=snapshot_at)
    if lines.empty:
        return pd.DataFrame(columns=list(FEATURE_COLUMNS), index=pd.Index([], name="customer_id"), dtype="float64")
    features = build_customer_features(lines, snapshot=snapshot_at, config=config)
    return features.join(review_feature_frame(index=features.index, snapshot_at=snapshot_at))


def review_feature_frame(*, index: pd.Index, snapshot_at: datetime) -> pd.DataFrame:
    sentiment = customer_sentiment_frame(until=snapshot_at).reindex(index)
    sentiment["review_count"] = sentiment["review_count"].fillna(0).astype("int64")
    return sentiment


def stored_columns(features: pd.DataFrame) -> pd.DataFrame:
    """The frame as rows of CustomerFeatures: customer_id plus every stored column (NaN if absent)."""
    out = features.reindex(columns=list(FEATURE_COLUMNS)).astype("float64")
    events = [c for c in features.columns if c.startswith("events_")]
    if "event_count" not in features.columns and events:
        out["event_count"] = features[events].sum(axis=1)
    out.insert(0, "customer_id", np.asarray(features.index, dtype="int64"))
    return out.reset_index(drop=True)


def feature_snapshot_ready(*, snapshot_at: datetime) -> FeatureSnapshot | None:
    return FeatureSnapshot.objects.filter(snapshot_at=snapshot_at, status=FeatureSnapshot.Status.READY).first()


@transaction.atomic
def feature_snapshot_store(*, snapshot_at: datetime, features: pd.DataFrame, params: dict | None = None, build_seconds: float | None = None) -> int:
    """Write a computed feature frame (index customer_id) as a ready snapshot; returns its id."""
    existing = feature_snapshot_ready(snapshot_at=snapshot_at)
    if existing is not None:
        return existing.pk
    FeatureSnapshot.objects.filter(snapshot_at=snapshot_at).exclude(status=FeatureSnapshot.Status.READY).delete()
    snapshot = FeatureSnapshot.objects.create(
        snapshot_at=snapshot_at, feature_names=list(FEATURE_COLUMNS), customer_count=len(features),
        params=params or {}, build_seconds=build_seconds,
    )
    rows = stored_columns(features)
    rows.insert(0, "snapshot_id", snapshot.pk)
    frame_insert(model=CustomerFeatures, frame=rows)
    snapshot.status = FeatureSnapshot.Status.READY
    snapshot.save(update_fields=["status"])
    return snapshot.pk


def feature_snapshot_build_with_frame(*, snapshot_at: datetime) -> tuple[int, pd.DataFrame]:
    """(snapshot id, its feature frame): the stored one when ready, else computed and stored."""
    existing = feature_snapshot_ready(snapshot_at=snapshot_at)
    if existing is not None:
        return existing.pk, feature_snapshot_frame(snapshot_id=existing.pk)
    started = time.monotonic()
    config = FeatureConfig()
    features = feature_frame_compute(snapshot_at=snapshot_at, config=config)
    seconds = time.monotonic() - started
    snapshot_id = feature_snapshot_store(
        snapshot_at=snapshot_at, features=features, params={"trend_days": config.trend_days}, build_seconds=seconds,
    )
    log.info("feature snapshot %s at %s: %d customers in %.1f s", snapshot_id, snapshot_at, len(features), seconds)
    return snapshot_id, stored_columns(features).set_index("customer_id")


def feature_snapshot_build(*, snapshot_at: datetime) -> int:
    """Build (or reuse) the feature snapshot at `snapshot_at`; returns its id."""
    return feature_snapshot_build_with_frame(snapshot_at=snapshot_at)[0]
