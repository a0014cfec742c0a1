"""Celery tasks of campaigns, all on the `email` queue, all safe to run twice.

campaigns.dispatch_due (beat, every minute): starts due one-off campaigns, spawns due recurring
runs and restarts stalled sending. campaigns.send_batch: claims and sends batches for up to
CAMPAIGN_TASK_SECONDS, then re-queues itself while work remains. campaigns.attribute_conversions (beat, hourly).
campaigns.record_bounce: a hard bounce reported by the mail provider. campaigns.train_uplift
(`ml` queue): fit the uplift model on past campaigns and score every customer.
campaigns.copy_drafts_generate (ml queue): language-model copy drafts of a campaign, checked by
the guardrails and stored as proposed or refused; progress in its Job row. Running it twice adds
another set of drafts, never sends anything (only an approved draft reaches a variant).
"""
from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from campaigns.selectors import campaign_outcome
from campaigns.services.attribution import conversions_attribute
from campaigns.services.lifecycle import campaigns_dispatch_due
from campaigns.services.sending import campaign_send_batches
from campaigns.services.tracking import bounce_record
from campaigns.services.uplift import uplift_model_train
from infra.jobs import job_progress, job_succeed
from infra.runner import JobTask, job_task, runs_inline

log = logging.getLogger(__name__)


@shared_task(name="campaigns.dispatch_due", base=JobTask)
def dispatch_due() -> dict:
    return campaigns_dispatch_due()


@shared_task(name="campaigns.send_batch", base=JobTask)
def send_batch(campaign_id: int, lane: int = 0, job_id: int | None = None) -> dict:
    def progress(batch) -> None:
        done = batch.sent + batch.failed + batch.suppressed
        if job_id and done:
            job_progress(job_id=job_id, advance=done)

    # Run inline (no broker), this is the caller's request: the throttle must not sleep in it, and
    # all lanes together get one task's time (no re-queue inline); the stall watchdog sends on.
    inline = runs_inline(send_batch)
    seconds = settings.CAMPAIGN_TASK_SECONDS / max(1, settings.CAMPAIGN_SEND_CONCURRENCY) if inline else settings.CAMPAIGN_TASK_SECONDS
    result = campaign_send_batches(campaign_id=campaign_id, seconds=seconds, on_batch=progress, may_wait=not inline)
    if job_id and result.state == "done":
        outcome = campaign_outcome(campaign_id=campaign_id)
        job_succeed(job_id=job_id, result={"campaign_id": campaign_id, **outcome}, message=outcome["message"])
    kwargs = {"campaign_id": campaign_id, "lane": lane, "job_id": job_id}
    if not inline and result.state == "more":
        send_batch.apply_async(kwargs=kwargs)
    elif not inline and result.state == "retry_later":
        send_batch.apply_async(kwargs=kwargs, countdown=max(1.0, result.retry_in_s))
    summary = {"campaign_id": campaign_id, "lane": lane, "state": result.state, "claimed": result.claimed, "sent": result.sent,
               "failed": result.failed, "suppressed": result.suppressed, "retried": result.retried}
    log.info("send_batch %s", summary)
    return summary


@shared_task(name="campaigns.attribute_conversions", base=JobTask)
def attribute_conversions(lookback_days: int = 35) -> dict:
    return conversions_attribute(lookback_days=lookback_days)


@shared_task(name="campaigns.record_bounce", base=JobTask)
def record_bounce(email: str, hard: bool = True, note: str = "") -> bool:
    return bounce_record(email=email, hard=hard, note=note)


@job_task(name="campaigns.train_uplift", kind="campaigns.train_uplift")
def train_uplift(*, job_id: int, campaign_ids: list[int] | None = None, learner: str = "t") -> dict:
    summary = uplift_model_train(campaign_ids=campaign_ids, learner=learner)
    return {**summary, "skipped": {str(k): v for k, v in summary["skipped"].items()}, "message": f"{summary['version']} {summary['status']}: {summary['rows']} rows, {summary['scored']} scored"}


@shared_task(name="campaigns.assistant_reindex")
def assistant_reindex(article_id: int) -> dict:
    """Re-chunk and re-embed one knowledge article (queued on commit by every article save)."""
    from campaigns.assistant.services.knowledge import knowledge_article_reindex

    return knowledge_article_reindex(article_id=article_id)


@job_task(name="campaigns.copy_drafts_generate", kind="copy_drafts")
def copy_drafts_generate(*, job_id: int, campaign_id: int, n: int = 10) -> dict:
    from campaigns.copywriting.services import copy_draft_generate

    job_progress(job_id=job_id, done=0, total=n, message="drafting")
    return copy_draft_generate(campaign_id=campaign_id, n=n, on_draft=lambda draft: job_progress(job_id=job_id, advance=1))


@shared_task(name="campaigns.assistant_reindex_products")
def assistant_reindex_products(batch: int = 500) -> dict:
    """Re-index the catalogue passages of changed products, one batch a run; queues itself again
    while changed products are left (periodic in the beat schedule: imports send no signal)."""
    from campaigns.assistant.services.catalogue import catalogue_reindex

    summary = catalogue_reindex(batch=batch)
    if summary["left"]:
        assistant_reindex_products.delay(batch)
    return summary
