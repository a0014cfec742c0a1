"""Review intelligence tasks: hourly scoring of new reviews, weekly training of the sentiment models.

mlcore.score_reviews scores whatever has no up-to-date sentiment (none left: nothing to do), so
running it twice is harmless; mlcore.gpu.train_sentiment registers a new version and activates
it only when it beats the active one on the same held-out reviews.
"""
from __future__ import annotations

from celery import shared_task

from mlcore.services.feedback import reviews_score, sentiment_train_all
from mlcore.services.jobs import job_create
from mlcore.tasks.base import JobTask


@shared_task(name="mlcore.score_reviews", base=JobTask, bind=True)
def score_reviews(self, job_id: int | None = None, limit: int | None = None) -> dict:
    job_id = job_id or job_create(kind="score_reviews", params={"limit": limit}, task_id=self.request.id or "").pk
    return reviews_score(limit=limit, job_id=job_id)


@shared_task(name="mlcore.gpu.train_sentiment", base=JobTask, bind=True)
def train_sentiment(self, job_id: int | None = None, languages: list[str] | None = None, quick: bool = False) -> dict:
    import torch

    params = {"languages": languages, "quick": quick}
    job_id = job_id or job_create(kind="train_sentiment", params=params, task_id=self.request.id or "").pk
    return sentiment_train_all(languages=languages, quick=quick, on_gpu=torch.cuda.is_available(), job_id=job_id)
