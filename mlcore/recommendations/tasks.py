"""Recommender tasks: nightly training with bulk-written lists, and the GPU ranker fine-tuning.

Both are safe to run twice: each run makes a new complete ModelVersion, activated only once its
artefact and rows are written, and old versions' rows are pruned. Their Job rows are run by
`job_task`.
"""
from __future__ import annotations

from infra.runner import job_task
from mlcore.recommendations.services import NotEnoughData, recommender_train


@job_task(name="mlcore.train_recommender", kind="train_recommender")
def train_recommender(*, job_id: int, fast: bool = False) -> dict:
    try:
        version = recommender_train(job_id=job_id, fast=fast)
    except NotEnoughData as exc:
        return {"skipped": str(exc), "message": "nothing to train on"}
    return {"model_version": version.pk, "version": version.version, "message": f"recommender v{version.version} active"}


@job_task(name="mlcore.gpu.train_ranker", kind="train_ranker")
def train_ranker(*, job_id: int, steps: int | None = None) -> dict:
    from mlcore.recommendations.ranker import NoRecommender, ranker_train

    try:
        version = ranker_train(job_id=job_id, steps=steps)
    except NoRecommender as exc:
        return {"skipped": str(exc), "message": "no recommender to re-rank"}
    return {"model_version": version.pk, "version": version.version, "metrics": version.metrics, "message": f"ranker v{version.version} ready"}
