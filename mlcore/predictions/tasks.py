"""Celery tasks of the predictions area (queue ml): weekly churn training, nightly scoring.

Both are safe to run twice: training adds a version that the gate compares with the active one;
scoring replaces the active version's score set in one transaction. Their Job rows are run by
`job_task`.
"""
from __future__ import annotations

import logging

from infra.runner import job_task
from mlcore.predictions.scoring import NoActiveChurnModel, customers_score
from mlcore.predictions.services import churn_train, lifetime_models_train

log = logging.getLogger(__name__)


@job_task(name="mlcore.train_churn", kind="train_churn")
def train_churn(*, job_id: int, as_of: str | None = None) -> dict:
    """Refit BG/NBD and Gamma-Gamma, then train a churn version and offer it to the gate."""
    bg, gg = lifetime_models_train(as_of=as_of)
    mv = churn_train(as_of=as_of, job_id=job_id)
    mv.refresh_from_db()
    state = "not trained" if mv.status == mv.Status.FAILED else ("active" if mv.is_active else "challenger")
    return {"churn_version_id": mv.pk, "active": mv.is_active, "roc_auc": mv.metrics.get("roc_auc"), "bgnbd_version_id": bg.pk,
            "gamma_gamma_version_id": gg.pk, "served_model": mv.params.get("served_model"), "notes": mv.notes,
            "lifetime_active": bg.is_active,
            "message": f"churn v{mv.version} {state}" + (f": {mv.notes}" if mv.status == mv.Status.FAILED else "")}


@job_task(name="mlcore.score_customers", kind="score_customers")
def score_customers(*, job_id: int, as_of: str | None = None) -> dict:
    """Score every customer with the active churn version (logs and returns when there is none)."""
    try:
        result = customers_score(as_of=as_of, job_id=job_id)
    except NoActiveChurnModel as exc:
        log.warning("score_customers: %s", exc)
        return {"scored": 0, "message": str(exc)}
    return {"model_version_id": result.model_version_id, "scored": result.scored, "max_psi": result.max_psi,
            "message": f"{result.scored} customers scored"}
