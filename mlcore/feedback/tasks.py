"""Review intelligence tasks: hourly scoring of new reviews in shards, weekly training of the sentiment models.

mlcore.score_reviews plans: it cuts the reviews needing scores into review-id ranges
(REVIEW_SCORE_SHARD_SIZE each), sets the job's total and hands them to a chord of
mlcore.score_reviews_shard tasks on the ml queue, whose callback mlcore.score_reviews_finish adds
up the shards' counts and ends the one Job row (none to score: the job ends at once, no chord).
With no broker (tasks eager) the chord runs in-process, shard after shard.

All are safe to run twice: a shard scores only what in its range still needs scores (a scored
review no longer does, and a review raises at most one alert), so a redelivered shard or a second
planning run scores nothing twice. mlcore.gpu.train_sentiment registers a new version and
activates it only when it beats the active one on the same held-out reviews. Their Job rows are
run by `job_task`.
"""
from __future__ import annotations

from celery import chord, shared_task

from infra import jobs
from infra.runner import JobTask, beating, job_task
from mlcore.feedback.services import review_counts_sum, reviews_score_plan, reviews_score_range, sentiment_train_all


@job_task(name="mlcore.score_reviews", kind="score_reviews")
def score_reviews(*, job_id: int, limit: int | None = None) -> dict:
    plan = reviews_score_plan(limit=limit)
    if not plan.shards:
        return {**review_counts_sum([]), "message": "no review to score"}
    jobs.job_progress(job_id=job_id, done=0, total=plan.reviews, message="scoring reviews")
    parts = [score_reviews_shard.si(first_id=a, end_id=b, job_id=job_id) for a, b in plan.shards]
    # .s: the callback receives the list of the shards' counts (what this run scored, which the rows cannot tell)
    then = chord(parts, score_reviews_finish.s(job_id=job_id))
    return {"reviews": plan.reviews, "shards": len(plan.shards), "then": then,
            "message": f"scoring {plan.reviews} reviews in {len(plan.shards)} shards"}


@shared_task(name="mlcore.score_reviews_shard", base=JobTask, bind=True, acks_late=True)
def score_reviews_shard(self, *, first_id: int, end_id: int, job_id: int | None = None) -> dict:
    """Score the reviews of one review-id range that still need it; returns its counts."""
    with beating(self, job_id):
        return reviews_score_range(first_id=first_id, end_id=end_id, job_id=job_id)


@shared_task(name="mlcore.score_reviews_finish", base=JobTask)
def score_reviews_finish(shard_counts: list[dict], *, job_id: int | None = None) -> dict:
    """After every shard: the summed counts end the job."""
    summary = {**review_counts_sum(shard_counts), "shards": len(shard_counts)}
    message = f"{summary['scored']} reviews scored"
    if job_id:
        jobs.job_succeed(job_id=job_id, result=summary, message=message)
    return {**summary, "message": message}


@job_task(name="mlcore.gpu.train_sentiment", kind="train_sentiment")
def train_sentiment(*, job_id: int, languages: list[str] | None = None, quick: bool = False) -> dict:
    import torch

    summary = sentiment_train_all(languages=languages, quick=quick, on_gpu=torch.cuda.is_available(), job_id=job_id)
    return {"languages": summary, "message": ", ".join(f"{k}: {v.get('method', 'skipped')}" for k, v in summary.items())}
