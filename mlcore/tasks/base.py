"""Shared task behaviour: a failed task marks its Job failed with the reason."""
from __future__ import annotations

import logging

from celery import Task

from mlcore.services.jobs import job_fail

log = logging.getLogger(__name__)


class JobTask(Task):
    """Base for tasks that take a `job_id` keyword: on failure the job row says why."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        job_id = kwargs.get("job_id")
        if job_id:
            job_fail(job_id=job_id, error=f"{exc.__class__.__name__}: {exc}")
        log.error("task %s (%s) failed: %s", self.name, task_id, exc)
