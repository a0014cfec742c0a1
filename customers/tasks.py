"""Celery tasks of the shop's core, on the `default` queue: webhook sends, privacy jobs, the import reaper.

customers.privacy_run: one GDPR export or erasure request (PrivacyRequest row), run once.
customers.webhook_deliver: one attempt of one webhook delivery; a failed attempt queues the next
one with exponential backoff (the delay comes from the service, so the schedule is in one place).
customers.import_upload: the import of a file uploaded in the admin, into its pending batch.
customers.reap_stale_imports (beat: every 5 minutes) marks failed every open import batch whose
job died (failed by the job reaper, or, for a command's or the API's import, silent for
IMPORT_STALE_AFTER_S); the update is conditional on the status, so running it twice (or beside
a live import that still reports progress) is harmless.
"""
from __future__ import annotations

import logging

from celery import shared_task

from customers.imports.services import import_batches_reap, import_upload_run
from customers.privacy.services import privacy_request_run
from customers.webhooks.services import webhook_delivery_attempt
from infra.runner import job_task

log = logging.getLogger(__name__)


@shared_task(name="customers.webhook_deliver")
def webhook_deliver(delivery_id: int) -> dict:
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        webhook_deliver.apply_async(kwargs={"delivery_id": delivery_id}, countdown=outcome.retry_in)
    return {"delivery_id": delivery_id, "status": outcome.status, "retry_in": outcome.retry_in}


@shared_task(name="customers.privacy_run")
def privacy_run(request_id: int) -> dict:
    """One GDPR export or erasure request; a failure marks the request failed with the reason."""
    return {"request_id": request_id, "status": privacy_request_run(request_id=request_id)}


@shared_task(name="customers.reap_stale_imports")
def reap_stale_imports() -> dict:
    return {"reaped": import_batches_reap()}


@job_task(name="customers.import_upload", kind="import")
def import_upload(*, job_id: int, batch_id: int, path: str, source_name: str, kind: str, preset: str | None = None,
                  mapping: dict | None = None, synthetic_emails: bool = False) -> dict:
    """The Job row (shown in Jobs) fails with the file's own reason when the import refuses it."""
    return import_upload_run(job_id=job_id, batch_id=batch_id, path=path, source_name=source_name, kind=kind, preset=preset,
                             mapping=mapping, synthetic_emails=synthetic_emails)
