"""Task of the job runner: failing jobs whose worker died (beat, every minute; its deployed name keeps the mlcore. prefix)."""
from __future__ import annotations

from celery import shared_task

from infra.jobs import jobs_reap_stale
from infra.runner import JobTask


@shared_task(name="mlcore.jobs_reap_stale", base=JobTask)
def reap_stale_jobs() -> dict:
    """Fail running jobs with no heartbeat for JOB_STALE_SECONDS."""
    return {"reaped": jobs_reap_stale()}
