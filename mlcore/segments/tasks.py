"""Task of the segmentation pipeline: the nightly (and on-demand) segmentation run."""
from __future__ import annotations

from customers.clock import shop_moment
from infra.runner import job_task
from mlcore.segments.services import NothingToSegment, segmentation_run_build


@job_task(name="mlcore.segment_customers", kind="segment_customers")
def segment_customers(*, job_id: int, snapshot_at: str | None = None) -> dict:
    """Segment every customer (idempotent per snapshot date: a second run returns the first)."""
    when = shop_moment(snapshot_at) if snapshot_at else None
    if snapshot_at and when is None:
        raise ValueError(f"snapshot_at {snapshot_at!r} is not an ISO date-time")
    try:
        run_id = segmentation_run_build(snapshot_at=when, job_id=job_id)
    except NothingToSegment as exc:
        return {"run_id": None, "skipped": str(exc), "message": "nothing to segment"}
    return {"run_id": run_id, "message": f"segmentation run {run_id}"}

