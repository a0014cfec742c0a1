"""Celery tasks of the predictions area (queue ml): weekly churn training, nightly scoring.

Both are safe to run twice: training adds a version that the gate compares with the active one;
scoring replaces the active version's score set in one transaction.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager

from celery import shared_task

from mlcore.services import jobs
from mlcore.services.predictions import churn_train, lifetime_models_train
from mlcore.services.predictions_scoring import NoActiveChurnModel, customers_score
from mlcore.tasks.base import JobTask

log = logging.getLogger(__name__)


@contextmanager
def failing_job(job_id: int):
    """Mark the job failed with the reason when the body raises (the job id may be made here)."""
    try:
        yield
    except NoActiveChurnModel:
        raise
    except Exception as exc:
        jobs.job_fail(job_id=job_id, error=f"{exc.__class__.__name__}: {exc}")
        raise


def ensure_job(kind: str, job_id: int | None, task_id: str | None) -> int:
    return job_id or jobs.job_create(kind=kind, task_id=task_id or "").pk


@shared_task(name="mlcore.train_churn", base=JobTask, bind=True)
def train_churn(self, job_id: int | None = None, as_of: str | None = None) -> dict:
    """Refit BG/NBD and Gamma-Gamma, then train a churn version and offer it to the gate."""
    job_id = ensure_job("train_churn", job_id, self.request.id)
    jobs.job_start(job_id=job_id, total=4, message="training")
    with failing_job(job_id):
        bg, gg = lifetime_models_train(as_of=as_of)
        mv = churn_train(as_of=as_of, job_id=job_id)
    mv.refresh_from_db()
    result = {"churn_version_id": mv.pk, "active": mv.is_active, "roc_auc": mv.metrics.get("roc_auc"), "bgnbd_version_id": bg.pk, "gamma_gamma_version_id": gg.pk,
              "served_model": mv.params.get("served_model"), "notes": mv.notes, "lifetime_active": bg.is_active}
    state = "not trained" if mv.status == mv.Status.FAILED else ("active" if mv.is_active else "challenger")
    jobs.job_succeed(job_id=job_id, result=result, message=f"churn v{mv.version} {state}" + (f": {mv.notes}" if mv.status == mv.Status.FAILED else ""))
    return result


@shared_task(name="mlcore.score_customers", base=JobTask, bind=True)
def score_customers(self, job_id: int | None = None, as_of: str | None = None) -> dict:
    """Score every customer with the active churn version (logs and returns when there is none)."""
    job_id = ensure_job("score_customers", job_id, self.request.id)
    jobs.job_start(job_id=job_id, message="scoring")
    try:
        with failing_job(job_id):
            result = customers_score(as_of=as_of, job_id=job_id)
    except NoActiveChurnModel as exc:
        log.warning("score_customers: %s", exc)
        jobs.job_succeed(job_id=job_id, result={"scored": 0}, message=str(exc))
        return {"scored": 0}
    summary = {"model_version_id": result.model_version_id, "scored": result.scored, "max_psi": result.max_psi}
    jobs.job_succeed(job_id=job_id, result=summary, message=f"{result.scored} customers scored")
    return summary
