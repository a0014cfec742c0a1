"""Train the uplift model on past campaigns and store every customer's expected uplift.

The training frame comes from campaigns.uplift (recipients and holdout of finished campaigns,
features at send time, conversion within the window); mlcore.predictions.uplift fits, registers
and scores it. The audience criterion `expected_uplift` then reads the stored scores.
"""
from __future__ import annotations

from campaigns.uplift import uplift_training_frame
from mlcore.ml.uplift import UpliftConfig
from mlcore.models import ModelVersion
from mlcore.predictions.uplift import uplift_scores_store, uplift_train


def uplift_model_train(*, campaign_ids: list[int] | None = None, learner: str = "t") -> dict:
    """Fit a T- (or X-) learner on past campaigns; a ready version is activated and scores everyone."""
    frame, skipped = uplift_training_frame(campaign_ids=campaign_ids)
    used = sorted({int(c) for c in frame["campaign_id"].unique()}) if len(frame) else []
    mv = uplift_train(frame=frame, config=UpliftConfig(learner=learner), params={"campaign_ids": used, "skipped": {str(k): v for k, v in skipped.items()}})
    scored = uplift_scores_store(version_id=mv.pk) if mv.status == ModelVersion.Status.READY else 0
    return {"version": mv.label, "status": mv.status, "error": mv.error, "campaigns": used, "skipped": skipped, "rows": int(len(frame)), "scored": scored}
