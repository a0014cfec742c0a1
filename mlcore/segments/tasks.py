"""Task of the segmentation pipeline: the nightly (and on-demand) segmentation run.

Beat starts the night here. On workers, when tonight's feature snapshot is not ready, the task
plans it and hands its Job to the chord of mlcore.features_shard tasks, chained to this task
again, which then finds the snapshot ready and segments; in-process (no broker) the snapshot's
shards run one after another inside the segmentation run.
"""
from __future__ import annotations

from customers.clock import shop_moment
from infra.runner import job_task
from mlcore.features.tasks import dispatching, features_chord, features_plan
from mlcore.segments.services import (
    NothingToSegment,
    default_snapshot_at,
    segmentation_run_build,
    segmentation_run_ready,
)


@job_task(name="mlcore.segment_customers", kind="segment_customers")
def segment_customers(*, job_id: int, snapshot_at: str | None = None) -> dict:
    """Segment every customer (idempotent per snapshot date: a second run returns the first)."""
    when = shop_moment(snapshot_at) if snapshot_at else None
    if snapshot_at and when is None:
        raise ValueError(f"snapshot_at {snapshot_at!r} is not an ISO date-time")
    if dispatching():  # on workers: tonight's snapshot first, its shards in parallel, then this task again
        when = when or default_snapshot_at()
        plan = None if segmentation_run_ready(snapshot_at=when) else features_plan(snapshot_at=when)
        if plan is not None and not plan.ready:
            again = segment_customers.si(snapshot_at=when.isoformat(), job_id=job_id)
            return {"snapshot_id": plan.snapshot_id, "then": features_chord(plan=plan, job_id=job_id, then=again),
                    "message": f"features of {plan.customers} customers in {len(plan.ranges)} shards"}
    try:
        run_id = segmentation_run_build(snapshot_at=when, job_id=job_id)
    except NothingToSegment as exc:
        return {"run_id": None, "skipped": str(exc), "message": "nothing to segment"}
    return {"run_id": run_id, "message": f"segmentation run {run_id}"}

