"""One job runner: `@job_task` owns the life of a task's Job row, so no task body does.

The decorated body takes `job_id` and its own keyword arguments and returns a small summary
dict (an optional "message" key becomes the job's message; an "error" key fails the job with
that reason, for work that ended without an exception but was not done). The decorator adopts the Job it was
given or creates one (beat passes none), marks it running, beats while the body runs (a worker
that dies stops beating and `jobs_reap_stale` fails the job), and marks it succeeded with the
summary or failed with the reason. `JobTask.on_failure` also fails it when the task breaks
before the body runs (bad arguments, a failed import), found by the job id in its kwargs or by
the task id; a job already failed is never marked twice.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import threading

from celery import Task, shared_task
from django.conf import settings
from django.db import close_old_connections

from infra.jobs import job_adopt, job_fail, job_heartbeat, job_progress, job_start, job_succeed
from infra.models import Job

log = logging.getLogger(__name__)


class JobTask(Task):
    """Base of every task: on failure its Job row (by job_id kwarg or task id) says why."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        job_id = (kwargs or {}).get("job_id") or Job.objects.filter(task_id=task_id).values_list("pk", flat=True).first()
        if job_id:
            job_fail(job_id=job_id, error=f"{exc.__class__.__name__}: {exc}")
        log.error("task %s (%s) failed: %s", self.name, task_id, exc)


class _Heartbeat:
    """A thread that touches the job's heartbeat while the body runs (not in eager mode: no worker to lose)."""

    def __init__(self, job_id: int, eager: bool):
        self.job_id, self.stop = job_id, threading.Event()
        self.thread = None if eager else threading.Thread(target=self._run, daemon=True, name=f"job-{job_id}-heartbeat")

    def _run(self) -> None:
        while not self.stop.wait(settings.JOB_HEARTBEAT_SECONDS):
            try:
                job_heartbeat(job_id=self.job_id)
            except Exception as exc:  # a locked SQLite file or a dropped connection: try again next beat
                log.debug("heartbeat of job %s skipped: %s", self.job_id, exc)
        close_old_connections()

    def __enter__(self):
        if self.thread:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()


def runs_inline(task: Task) -> bool:
    """True when this call of `task` runs in its caller's process (applied eagerly, as with no
    broker, or called as a plain function): no worker to lose, and the caller is waiting on it."""
    return bool(task.request.is_eager) or not task.request.id


def beating(task: Task, job_id: int | None):
    """A part of a job (a shard task) keeps the job's heartbeat while it runs, as the job's own task does."""
    return _Heartbeat(job_id, eager=runs_inline(task)) if job_id else contextlib.nullcontext()


def _continue(job_id: int, then, eager: bool, message: str) -> None:
    """Start the body's follow-up (a chord of shard tasks): here when the task runs eagerly, else on
    the workers. The follow-up's last task ends the job (`job_succeed`); a failing part fails it."""
    job_progress(job_id=job_id, message=message)
    then.apply() if eager else then.apply_async()


def job_task(*, name: str, kind: str, **options):
    """A Celery task named `name` whose Job row of kind `kind` this decorator runs."""

    def decorate(body):
        @shared_task(name=name, base=JobTask, bind=True, **options)
        @functools.wraps(body)
        def task(self, job_id: int | None = None, **kwargs) -> dict:
            job_id = job_adopt(job_id=job_id, kind=kind, task_id=self.request.id or "", params=kwargs)
            job_start(job_id=job_id, message="running")
            eager = runs_inline(self)
            try:
                with _Heartbeat(job_id, eager=eager):
                    summary = dict(body(job_id=job_id, **kwargs) or {})
                    then = summary.pop("then", None)
                    if then is not None:
                        _continue(job_id, then, eager, str(summary.get("message", "continuing")))
            except Exception as exc:
                job_fail(job_id=job_id, error=f"{exc.__class__.__name__}: {exc}")
                raise
            if summary.get("error"):  # the work could not be done for a reason the body knows (a user's bad file): failed, not "succeeded"
                job_fail(job_id=job_id, error=str(summary["error"]))
                return {**summary, "job_id": job_id}
            message = str(summary.pop("message", "done"))
            if then is None:
                job_succeed(job_id=job_id, result=summary, message=message)
            return {**summary, "job_id": job_id, "message": message}

        return task

    return decorate
