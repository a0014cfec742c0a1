"""Task of the job runner: failing jobs whose worker died (beat, every minute)."""
from __future__ import annotations

from celery import shared_task

from mlcore.jobs.runner import JobTask
from mlcore.jobs.services import jobs_reap_stale


@shared_task(name="mlcore.jobs_reap_stale", base=JobTask)
def reap_stale_jobs() -> dict:
    """Fail running jobs with no heartbeat for JOB_STALE_SECONDS."""
    return {"reaped": jobs_reap_stale()}
