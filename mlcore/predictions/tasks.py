"""Celery tasks of the predictions area (queue ml): weekly churn training, nightly scoring.

Both are safe to run twice: training adds a version that the gate compares with the active one;
scoring is a chord of mlcore.score_shard tasks over customer-id ranges (SCORING_SHARD_CUSTOMERS
each), each replacing its range of the active version's rows in one transaction, whose callback
mlcore.score_finish drops rows of customers no longer scored, writes the drift report and ends
the one Job row. With no broker (tasks eager) the chord runs in-process. Job rows are run by
`job_task`.
"""
from __future__ import annotations

import logging

from celery import chord, shared_task

from infra import jobs
from infra.runner import JobTask, beating, job_task
from mlcore.predictions.scoring import NoActiveChurnModel, scores_shard_write, scoring_finish, scoring_plan
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
    """Score every customer with the active churn version in shards (logs and returns when there is none)."""
    try:
        plan = scoring_plan(as_of=as_of)
    except NoActiveChurnModel as exc:
        log.warning("score_customers: %s", exc)
        return {"scored": 0, "message": str(exc)}
    jobs.job_progress(job_id=job_id, done=0, total=plan.customers)
    parts = [score_shard.si(plan=plan.as_dict(), first_id=a, end_id=b, job_id=job_id) for a, b in plan.ranges]
    then = chord(parts, score_finish.s(plan=plan.as_dict(), job_id=job_id))
    return {"model_version_id": plan.version_id, "customers": plan.customers, "shards": len(parts), "then": then,
            "message": f"scoring {plan.customers} customers in {len(parts)} shards"}


@shared_task(name="mlcore.score_shard", base=JobTask, bind=True, acks_late=True)
def score_shard(self, *, plan: dict, first_id: int, end_id: int, job_id: int | None = None) -> dict:
    """Score one customer-id range and replace its rows of the version (safe to run again)."""
    with beating(self, job_id):
        return scores_shard_write(plan=plan, first_id=first_id, end_id=end_id, job_id=job_id)


@shared_task(name="mlcore.score_finish", base=JobTask)
def score_finish(results: list[dict], *, plan: dict, job_id: int | None = None) -> dict:
    """After every shard: stale rows, drift report, webhook; ends the job."""
    result = scoring_finish(plan=plan, results=results)
    summary = {"model_version_id": result.model_version_id, "scored": result.scored, "max_psi": result.max_psi,
               "message": f"{result.scored} customers scored"}
    if job_id:
        jobs.job_succeed(job_id=job_id, result={k: v for k, v in summary.items() if k != "message"}, message=summary["message"])
    return summary
