"""Job rows: the life and progress of long work (done/total), shown in the admin and the API.

Progress is written to the row and published to the cache, because work inside a transaction
(an atomic import or segmentation run) cannot show its row's changes before it commits; readers
take whichever is fresher (`job_live`). A running job whose worker stopped beating is failed by
`jobs_reap_stale` (beat, every minute) instead of blocking "Run now" for ever.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from infra.models import Job

log = logging.getLogger(__name__)
OPEN = [Job.Status.QUEUED, Job.Status.RUNNING]


def _cache_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def job_create(*, kind: str, params: dict | None = None, total: int | None = None, task_id: str = "", exclusive: bool = False) -> Job:
    return Job.objects.create(kind=kind, params=params or {}, total=total, task_id=task_id, exclusive=exclusive)


def job_enqueue(*, kind: str, task, params: dict | None = None, task_kwargs: dict | None = None) -> tuple[Job, bool]:
    """One open job of this kind: create it and queue `task` after commit, or return the open one (False)."""
    for _ in range(3):  # the open job may end between the failed insert and the read
        try:
            with transaction.atomic():
                job = job_create(kind=kind, params=params, exclusive=True)
            break
        except IntegrityError:
            if (running := job_running(kind=kind)) is not None:
                return running, False
    else:
        raise RuntimeError(f"could not queue a {kind} job")
    transaction.on_commit(lambda: task.apply_async(kwargs={**(task_kwargs or {}), "job_id": job.pk}))
    return job, True


def job_adopt(*, job_id: int | None, kind: str, task_id: str = "", params: dict | None = None) -> int:
    """The job a task reports to: the one it was given, or a new one (beat passes none)."""
    if job_id is not None and Job.objects.filter(pk=job_id).exists():
        if task_id:
            Job.objects.filter(pk=job_id, task_id="").update(task_id=task_id)
        return job_id
    return job_create(kind=kind, params=params, task_id=task_id).pk


def job_start(*, job_id: int, total: int | None = None, message: str = "") -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, total=total, done=0, message=message[:300], error=""
    )
    cache.delete(_cache_key(job_id))


def job_progress(*, job_id: int, done: int | None = None, advance: int = 0, total: int | None = None, message: str | None = None) -> None:
    """Set or advance progress; cheap enough to call every batch. Visible at once, also inside a transaction."""
    fields: dict = {"heartbeat_at": timezone.now()}
    if done is not None:
        fields["done"] = done
    elif advance:
        fields["done"] = F("done") + advance
    if total is not None:
        fields["total"] = total
    if message is not None:
        fields["message"] = message[:300]
    Job.objects.filter(pk=job_id).update(**fields)
    # this connection sees its own uncommitted row: publish it for the other processes
    row = Job.objects.filter(pk=job_id).values("done", "total", "message").first()
    if row:
        cache.set(_cache_key(job_id), {**row, "at": timezone.now().timestamp()}, timeout=24 * 3600)


def job_heartbeat(*, job_id: int) -> None:
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())


def job_succeed(*, job_id: int, result: dict | None = None, message: str = "done") -> None:
    """running -> succeeded (a job already failed or finished stays as it is)."""
    Job.objects.filter(pk=job_id, status__in=OPEN).update(
        status=Job.Status.SUCCEEDED, finished_at=timezone.now(), result=result or {}, message=message[:300],
        done=Coalesce(F("total"), F("done")),
    )
    cache.delete(_cache_key(job_id))


def job_fail(*, job_id: int, error: str) -> bool:
    """queued/running -> failed with the reason; False when it had already ended (never marked twice)."""
    changed = Job.objects.filter(pk=job_id, status__in=OPEN).update(
        status=Job.Status.FAILED, finished_at=timezone.now(), error=error[:10000], message="failed"
    )
    cache.delete(_cache_key(job_id))
    return bool(changed)


def job_result(*, job_id: int) -> dict:
    """The summary a job ended with (empty while it runs, or when it failed or is gone)."""
    return Job.objects.filter(pk=job_id).values_list("result", flat=True).first() or {}


def job_running(*, kind: str) -> Job | None:
    """The job of this kind that is already queued or running, so a second trigger can join it instead."""
    return Job.objects.filter(kind=kind, status__in=OPEN).order_by("-created_at").first()


def job_live(*, job: Job) -> dict:
    """The job as a reader should see it now: the row, with the cache's fresher progress on top."""
    live = cache.get(_cache_key(job.pk)) if job.status == Job.Status.RUNNING else None
    state = {"id": job.pk, "kind": job.kind, "status": job.status, "done": job.done, "total": job.total,
             "message": job.message, "error": job.error[:2000], "result": job.result}
    if live:
        state.update({k: live[k] for k in ("done", "total", "message") if live.get(k) is not None})
    total = state["total"]
    state["percent"] = round(min(100.0, 100.0 * state["done"] / total), 1) if total else None
    return state


def job_last_sign(*, job: Job) -> datetime | None:
    """When the job last showed life: its row's heartbeat, or the progress it published to the cache
    (work inside a transaction beats on its own uncommitted row, which no other connection sees)."""
    live = cache.get(_cache_key(job.pk)) if job.status == Job.Status.RUNNING else None
    published = datetime.fromtimestamp(live["at"], tz=UTC) if live and live.get("at") else None
    return max((at for at in (job.heartbeat_at, job.started_at, published) if at is not None), default=None)


def jobs_reap_stale(*, now: datetime | None = None, job_ids: list[int] | None = None, stale_seconds: int | None = None) -> int:
    """Fail running jobs with no sign of life for JOB_STALE_SECONDS: their worker died or was killed.

    With `job_ids`, only those jobs, also ones no task runs (a command's import), after `stale_seconds`."""
    now = now or timezone.now()
    stale_seconds = settings.JOB_STALE_SECONDS if stale_seconds is None else stale_seconds
    cutoff = now - timedelta(seconds=stale_seconds)
    silent = Job.objects.filter(status=Job.Status.RUNNING).filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
    # by default only jobs a task runs (it beats); a campaign's sending job waits through pauses and throttles
    silent = silent.filter(pk__in=job_ids) if job_ids is not None else silent.exclude(task_id="")
    reaped = 0
    for job in silent.only("pk", "status", "heartbeat_at", "started_at"):
        if (last := job_last_sign(job=job)) is not None and last >= cutoff:
            continue
        reaped += job_fail(job_id=job.pk, error=f"worker lost: no sign of life for over {stale_seconds} s")
    if reaped:
        log.warning("jobs_reap_stale: %d job(s) failed after their worker stopped", reaped)
    return reaped
