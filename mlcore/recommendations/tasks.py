"""Recommender tasks: nightly training with sharded, bulk-written lists, and the GPU ranker fine-tuning.

mlcore.train_recommender fits on all data (one task), stores the artefact, the similar and popular
lists, then hands each customer's top-N to a chord of mlcore.recommend_shard tasks over customer-id
ranges (RECOMMENDER_SHARD_CUSTOMERS each) on the ml queue, whose callback mlcore.recommend_finish
activates the version and ends the one Job row that counts every shard's customers. With no broker
(tasks eager) the chord runs in-process, shard after shard.

All are safe to run twice: each training makes a new complete ModelVersion, activated only once its
artefact and rows are written; a shard replaces its own range of its version's rows; finishing
again re-activates the same version. Old versions' rows are pruned.
"""
from __future__ import annotations

from celery import chord, shared_task

from infra import jobs
from infra.runner import JobTask, beating, job_task
from mlcore.recommendations.services import (
    NotEnoughData,
    recommendations_shard_write,
    recommender_finish,
    recommender_fit_store,
    recommender_shards,
)


@job_task(name="mlcore.train_recommender", kind="train_recommender")
def train_recommender(*, job_id: int, fast: bool = False) -> dict:
    try:
        version = recommender_fit_store(job_id=job_id, fast=fast)
    except NotEnoughData as exc:
        return {"skipped": str(exc), "message": "nothing to train on"}
    shards = recommender_shards(version_id=version.pk)
    parts = [recommend_shard.si(version_id=version.pk, first_id=a, end_id=b, job_id=job_id) for a, b in shards]
    then = chord(parts, recommend_finish.si(version_id=version.pk, job_id=job_id))
    return {"model_version": version.pk, "version": version.version, "shards": len(shards), "then": then,
            "message": f"recommender v{version.version}: writing top-N in {len(shards)} shards"}


@shared_task(name="mlcore.recommend_shard", base=JobTask, bind=True, acks_late=True)
def recommend_shard(self, *, version_id: int, first_id: int, end_id: int, job_id: int | None = None) -> int:
    """Write (or rewrite) the top-N of one customer-id range of a version; returns rows written."""
    with beating(self, job_id):
        return recommendations_shard_write(version_id=version_id, first_id=first_id, end_id=end_id, job_id=job_id)


@shared_task(name="mlcore.recommend_finish", base=JobTask)
def recommend_finish(*, version_id: int, job_id: int | None = None) -> dict:
    """After every shard: activate the version, prune old rows, end the job."""
    version = recommender_finish(version_id=version_id)
    summary = {"model_version": version.pk, "version": version.version, "message": f"recommender v{version.version} active"}
    if job_id:
        jobs.job_succeed(job_id=job_id, result={k: v for k, v in summary.items() if k != "message"}, message=summary["message"])
    return summary


@job_task(name="mlcore.gpu.train_ranker", kind="train_ranker")
def train_ranker(*, job_id: int, steps: int | None = None) -> dict:
    from mlcore.recommendations.ranker import NoRecommender, ranker_train

    try:
        version = ranker_train(job_id=job_id, steps=steps)
    except NoRecommender as exc:
        return {"skipped": str(exc), "message": "no recommender to re-rank"}
    return {"model_version": version.pk, "version": version.version, "metrics": version.metrics, "message": f"ranker v{version.version} ready"}
