"""Task of the segmentation pipeline: the nightly (and on-demand) segmentation run."""
from __future__ import annotations

import logging

from celery import shared_task

from mlcore.services.jobs import job_create, job_start, job_succeed
from mlcore.services.segments import NothingToSegment, parse_moment, segmentation_run_build
from mlcore.tasks.base import JobTask

log = logging.getLogger(__name__)


@shared_task(name="mlcore.segment_customers", base=JobTask, bind=True)
def segment_customers(self, job_id: int | None = None, snapshot_at: str | None = None) -> dict:
    """Segment every customer (idempotent per snapshot date: a second run returns the first)."""
    if job_id is None:
        job_id = job_create(kind="segment_customers", task_id=self.request.id or "", params={"snapshot_at": snapshot_at}).pk
    when = parse_moment(snapshot_at) if snapshot_at else None
    if snapshot_at and when is None:
        raise ValueError(f"snapshot_at {snapshot_at!r} is not an ISO date-time")
    job_start(job_id=job_id, total=4, message="features")
    try:
        run_id = segmentation_run_build(snapshot_at=when, job_id=job_id)
    except NothingToSegment as exc:
        job_succeed(job_id=job_id, result={"skipped": str(exc)}, message="nothing to segment")
        return {"run_id": None, "skipped": str(exc)}
    job_succeed(job_id=job_id, result={"run_id": run_id}, message=f"segmentation run {run_id}")
    return {"run_id": run_id, "job_id": job_id}
