"""Recommender tasks: nightly training with bulk-written lists, and the GPU ranker fine-tuning.

Both are safe to run twice: each run makes a new complete ModelVersion, activated only once its
artefact and rows are written, and old versions' rows are pruned.
"""
from __future__ import annotations

import logging

from celery import shared_task

from mlcore.services import jobs
from mlcore.services.recommendations import NotEnoughData, recommender_train
from mlcore.tasks.base import JobTask

log = logging.getLogger(__name__)


@shared_task(name="mlcore.train_recommender", base=JobTask, bind=True)
def train_recommender(self, *, job_id: int | None = None, fast: bool = False) -> dict:
    job_id = job_id or jobs.job_create(kind="train_recommender", params={"fast": fast}, task_id=self.request.id or "").pk
    jobs.job_start(job_id=job_id, message="training the recommender")
    try:
        version = recommender_train(job_id=job_id, fast=fast)
    except NotEnoughData as exc:
        jobs.job_succeed(job_id=job_id, result={"skipped": str(exc)}, message="nothing to train on")
        return {"skipped": str(exc)}
    result = {"model_version": version.pk, "version": version.version}
    jobs.job_succeed(job_id=job_id, result=result, message=f"recommender v{version.version} active")
    return result


@shared_task(name="mlcore.gpu.train_ranker", base=JobTask, bind=True)
def train_ranker(self, *, job_id: int | None = None, steps: int | None = None) -> dict:
    from mlcore.services.ranker import NoRecommender, ranker_train

    job_id = job_id or jobs.job_create(kind="train_ranker", params={"steps": steps}, task_id=self.request.id or "").pk
    jobs.job_start(job_id=job_id, message="fine-tuning the ranker")
    try:
        version = ranker_train(job_id=job_id, steps=steps)
    except NoRecommender as exc:
        jobs.job_succeed(job_id=job_id, result={"skipped": str(exc)}, message="no recommender to re-rank")
        return {"skipped": str(exc)}
    result = {"model_version": version.pk, "version": version.version, "metrics": version.metrics}
    jobs.job_succeed(job_id=job_id, result=result, message=f"ranker v{version.version} ready")
    return result
