"""The uplift model: fit from a frame the caller assembles, store it in the registry, score.

mlcore knows nothing of campaigns: `uplift_train` takes a DataFrame of past sends (one row per
customer and campaign: the feature snapshot at send time, `treated` 1 for a recipient and 0 for
the holdout, `converted` 1 for an order within the window) and returns the `uplift` ModelVersion;
`uplift_scores_store` writes every customer's expected uplift from the latest feature snapshot
(`CustomerUplift`, pointing at the version). campaigns.services.uplift assembles the frame.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from infra.bulk import frame_insert
from mlcore.features.selectors import feature_snapshot_frame, feature_snapshot_latest
from mlcore.ml.features import BASE_FEATURES
from mlcore.ml.uplift import UpliftConfig, fit_uplift_frame, qini_coefficient
from mlcore.models import CustomerUplift, ModelVersion
from mlcore.predictions.services import json_safe
from mlcore.registry import services as registry

log = logging.getLogger(__name__)
UPLIFT = "uplift"
FEATURES = [*BASE_FEATURES, "event_count"]  # the snapshot's purchase features; reviews and support are sparse in most shops
MIN_PER_GROUP = 50
MIN_CONVERSIONS = 10


def uplift_data_problem(frame: pd.DataFrame) -> str | None:
    """Why this frame cannot train an uplift model, or None."""
    for flag, name in ((1, "recipients"), (0, "holdout customers")):
        group = frame.loc[frame["treated"] == flag]
        if len(group) < MIN_PER_GROUP:
            return f"{len(group)} {name} in past campaigns (at least {MIN_PER_GROUP} needed)"
        if group["converted"].sum() < MIN_CONVERSIONS or (1 - group["converted"]).sum() < MIN_CONVERSIONS:
            return f"{int(group['converted'].sum())} conversions among {name} (at least {MIN_CONVERSIONS}, and as many non-converters)"
    return None


def _validation(frame: pd.DataFrame, config: UpliftConfig) -> dict:
    """Qini coefficient on a seeded 30% of the rows, the model fit on the other 70%."""
    rng = np.random.default_rng(config.seed)
    test = rng.random(len(frame)) < 0.3
    train, held = frame.loc[~test], frame.loc[test]
    if uplift_data_problem(train) or held["treated"].nunique() < 2:
        return {"validation": "too few rows for a held-out split"}
    score = fit_uplift_frame(train, features=FEATURES, config=config).predict(held)
    return {"validation_rows": int(len(held)), "validation_qini": qini_coefficient(score, held["treated"].to_numpy(), held["converted"].to_numpy())}


def uplift_train(*, frame: pd.DataFrame, config: UpliftConfig = UpliftConfig(), params: dict | None = None, activate: bool = True) -> ModelVersion:
    """Fit, validate and store an uplift version from `frame`; activate it when it is ready."""
    params = {"config": config.as_dict(), "features": FEATURES, **(params or {})}
    mv = registry.model_version_create(kind=UPLIFT, params=json_safe(params))
    problem = uplift_data_problem(frame)
    if problem:
        registry.model_version_fail(version_id=mv.pk, error=f"not trained: {problem}")
        return ModelVersion.objects.get(pk=mv.pk)
    try:
        metrics = {"rows": int(len(frame)), "treated": int(frame["treated"].sum()), "control": int((1 - frame["treated"]).sum()),
                   "conversion_treated": float(frame.loc[frame["treated"] == 1, "converted"].mean()),
                   "conversion_control": float(frame.loc[frame["treated"] == 0, "converted"].mean()), **_validation(frame, config)}
        model = fit_uplift_frame(frame, features=FEATURES, config=config)
        mv = registry.model_version_save_object(version_id=mv.pk, obj=model, metrics=json_safe(metrics))
    except Exception as exc:
        registry.model_version_fail(version_id=mv.pk, error=f"{exc.__class__.__name__}: {exc}")
        raise
    return registry.model_version_activate(version_id=mv.pk) if activate else mv


def uplift_predict(*, version_id: int, features: pd.DataFrame) -> pd.Series:
    """Expected uplift of the customers in `features` (index customer_id) under one version."""
    model = registry.model_version_load_object(version_id=version_id)
    return pd.Series(model.predict(features) if len(features) else [], index=features.index, name="uplift", dtype="float64")


@transaction.atomic
def uplift_scores_store(*, version_id: int, snapshot_id: int | None = None) -> int:
    """Score every customer of the latest (or the given) feature snapshot; replaces this version's scores."""
    snapshot = feature_snapshot_latest() if snapshot_id is None else None
    snapshot_id = snapshot_id or (snapshot.pk if snapshot else None)
    if snapshot_id is None:
        return 0
    scores = uplift_predict(version_id=version_id, features=feature_snapshot_frame(snapshot_id=snapshot_id))
    CustomerUplift.objects.filter(model_version_id=version_id).delete()
    scored_at = connection.ops.adapt_datetimefield_value(timezone.now())  # the bulk path binds values as the backend stores them
    rows = pd.DataFrame({"customer_id": scores.index.astype("int64"), "model_version_id": version_id, "uplift": scores.to_numpy()})
    rows["scored_at"] = pd.Series([scored_at] * len(rows), dtype=object)
    frame_insert(model=CustomerUplift, frame=rows)
    log.info("uplift v%s: %d customers scored from snapshot %s", version_id, len(rows), snapshot_id)
    return len(rows)
