"""Job rows: the progress of long work (done/total), shown in the admin and the API."""
from __future__ import annotations

import logging

from django.db.models import F
from django.utils import timezone

from mlcore.models import Job

log = logging.getLogger(__name__)


def job_create(*, kind: str, params: dict | None = None, total: int | None = None, task_id: str = "") -> Job:
    return Job.objects.create(kind=kind, params=params or {}, total=total, task_id=task_id)


def job_start(*, job_id: int, total: int | None = None, message: str = "") -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), total=total, done=0, message=message[:300], error=""
    )


def job_progress(*, job_id: int, done: int | None = None, advance: int = 0, total: int | None = None, message: str | None = None) -> None:
    """Set or advance progress; cheap enough to call every batch."""
    fields: dict = {}
    if done is not None:
        fields["done"] = done
    elif advance:
        fields["done"] = F("done") + advance
    if total is not None:
        fields["total"] = total
    if message is not None:
        fields["message"] = message[:300]
    if fields:
        Job.objects.filter(pk=job_id).update(**fields)


def job_succeed(*, job_id: int, result: dict | None = None, message: str = "done") -> None:
    job = Job.objects.get(pk=job_id)
    done = job.total if job.total is not None else job.done
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), result=result or {}, message=message[:300], done=done
    )


def job_fail(*, job_id: int, error: str) -> None:
    Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, finished_at=timezone.now(), error=error[:10000], message="failed")


def job_running(*, kind: str) -> Job | None:
    """The job of this kind that is already running, so a second trigger can join it instead."""
    return Job.objects.filter(kind=kind, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).order_by("-created_at").first()
