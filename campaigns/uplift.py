"""Uplift from past campaigns: the training frame (recipients and holdout, the feature snapshot
at send time, conversion within the window) and the Qini curve of the active uplift model on a
campaign's own holdout, for the report.

The model itself lives in mlcore (mlcore.predictions.uplift takes the frame built here; mlcore
never reads campaigns). An outcome is the report's: any non-cancelled order within the
campaign's conversion window after the send (holdout: after the start), as in the uplift
against the holdout (campaigns.selectors.customer_outcomes).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from campaigns.models import Campaign
from campaigns.selectors import HOLDOUT, customer_outcomes
from mlcore.features.selectors import feature_snapshot_frame, feature_snapshot_latest
from mlcore.ml.uplift import qini_coefficient, qini_points
from mlcore.models import ModelVersion
from mlcore.predictions.selectors import active_uplift_version
from mlcore.predictions.uplift import uplift_predict

FINISHED = (Campaign.Status.SENT, Campaign.Status.PARTIAL)
QINI_MIN_HOLDOUT = 30
QINI_MIN_CONVERSIONS = 10


def campaign_send_frame(campaign: Campaign) -> tuple[pd.DataFrame, str | None]:
    """(customer_id, treated, converted + the features at send time) of one campaign, or why not."""
    outcomes = customer_outcomes(campaign)
    snapshot = feature_snapshot_latest(before=campaign.started_at) if campaign.started_at else None
    if snapshot is None:
        return pd.DataFrame(), "no feature snapshot from before the send"
    frame = pd.DataFrame.from_records(
        [(cid, int(arm != HOLDOUT), int(value > 0)) for cid, (arm, value) in outcomes.items()], columns=["customer_id", "treated", "converted"],
    ).set_index("customer_id")
    features = feature_snapshot_frame(snapshot_id=snapshot.pk)
    return frame.join(features, how="left").assign(campaign_id=campaign.pk), None


def uplift_training_frame(*, campaign_ids: list[int] | None = None) -> tuple[pd.DataFrame, dict]:
    """Every finished campaign with a holdout (or those given): one frame, and what was skipped why."""
    qs = Campaign.objects.filter(status__in=FINISHED, holdout_share__gt=0, started_at__isnull=False).order_by("started_at")
    if campaign_ids is not None:
        qs = qs.filter(pk__in=campaign_ids)
    frames, skipped = [], {}
    for campaign in qs:
        frame, problem = campaign_send_frame(campaign)
        if problem:
            skipped[campaign.pk] = problem
        else:
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["customer_id", "treated", "converted", "campaign_id"]), skipped
    return pd.concat(frames).reset_index(), skipped


def chart_polylines(points: list[dict], *, width: int = 480, height: int = 240) -> dict:
    """SVG polyline coordinates of the model's and random targeting's Qini curves."""
    values = [p["qini"] for p in points] + [p["random"] for p in points]
    low, high = min(values + [0.0]), max(values + [0.0])
    span = (high - low) or 1.0

    def line(key: str) -> str:
        return " ".join(f"{p['fraction'] * width:.1f},{height - (p[key] - low) / span * height:.1f}" for p in points)

    return {"width": width, "height": height, "model": line("qini"), "random": line("random")}


def campaign_qini(*, campaign: Campaign) -> dict:
    """The active uplift model's Qini curve on this campaign's recipients and holdout, or why not."""
    version: ModelVersion | None = active_uplift_version()
    if version is None:
        return {"available": False, "reason": "no uplift model is trained yet (it learns from finished campaigns with a holdout)."}
    if not campaign.started_at or campaign.holdout_share <= 0:
        return {"available": False, "reason": "the campaign has no holdout to compare with."}
    frame, problem = campaign_send_frame(campaign)
    if problem:
        return {"available": False, "reason": f"{problem}."}
    n_control, conversions = int((frame["treated"] == 0).sum()), int(frame["converted"].sum())
    if n_control < QINI_MIN_HOLDOUT or conversions < QINI_MIN_CONVERSIONS:
        return {"available": False, "reason": f"{n_control} holdout customers and {conversions} conversions; at least {QINI_MIN_HOLDOUT} and {QINI_MIN_CONVERSIONS} are needed."}
    score = uplift_predict(version_id=version.pk, features=frame).to_numpy()
    t, y = frame["treated"].to_numpy(), frame["converted"].to_numpy()
    points = qini_points(score, t, y)
    return {
        "available": True, "model": version.label, "n_treated": int(t.sum()), "n_control": n_control, "conversions": conversions,
        "coefficient": qini_coefficient(score, t, y), "points": points, "chart": chart_polylines(points),
        "in_sample": campaign.pk in (version.params.get("campaign_ids") or []), "mean_score": float(np.mean(score)),
    }
