"""Review intelligence tasks: hourly scoring of new reviews, weekly training of the sentiment models.

mlcore.score_reviews scores whatever has no up-to-date sentiment (none left: nothing to do), so
running it twice is harmless; mlcore.gpu.train_sentiment registers a new version and activates
it only when it beats the active one on the same held-out reviews. Their Job rows are run by
`job_task`.
"""
from __future__ import annotations

from infra.runner import job_task
from mlcore.feedback.services import reviews_score, sentiment_train_all


@job_task(name="mlcore.score_reviews", kind="score_reviews")
def score_reviews(*, job_id: int, limit: int | None = None) -> dict:
    summary = reviews_score(limit=limit, job_id=job_id)
    return {**summary, "message": f"{summary['scored']} reviews scored"}


@job_task(name="mlcore.gpu.train_sentiment", kind="train_sentiment")
def train_sentiment(*, job_id: int, languages: list[str] | None = None, quick: bool = False) -> dict:
    import torch

    summary = sentiment_train_all(languages=languages, quick=quick, on_gpu=torch.cuda.is_available(), job_id=job_id)
    return {"languages": summary, "message": ", ".join(f"{k}: {v.get('method', 'skipped')}" for k, v in summary.items())}
