"""Celery tasks of the features area (queue ml): the feature snapshot built in shards.

mlcore.build_features plans tonight's snapshot (the shop-level context read once, the snapshot
row in status building) and runs a chord of mlcore.features_shard tasks over customer-id ranges
(FEATURE_SHARD_CUSTOMERS each), each replacing its range's rows (safe to run again); the callback
mlcore.features_finish marks the snapshot ready only when every shard is in and ends the one Job
row (or hands it to the task chained after it: the nightly segmentation waits so). With no
broker the chord runs in-process, shard after shard.
"""
from __future__ import annotations

from celery import chord, current_app, shared_task

from customers.clock import shop_as_of, shop_moment
from infra import jobs
from infra.runner import JobTask, beating, job_task
from mlcore.features.services import feature_config_resolve
from mlcore.features.shards import FeatureBuildPlan, feature_shard_write, feature_snapshot_finish, feature_snapshot_plan


def dispatching() -> bool:
    """True when tasks go to workers (a broker is set): a build is then a chord, not a loop in this process."""
    return not current_app.conf.task_always_eager


def features_plan(*, snapshot_at) -> FeatureBuildPlan:
    return feature_snapshot_plan(snapshot_at=snapshot_at, config=feature_config_resolve(snapshot_at=snapshot_at))


def features_chord(*, plan: FeatureBuildPlan, job_id: int, then=None):
    """The shards of `plan` as a chord ending in mlcore.features_finish, followed by `then` when given."""
    parts = [features_shard.si(snapshot_id=plan.snapshot_id, first_id=a, end_id=b, job_id=job_id) for a, b in plan.ranges]
    build = chord(parts, features_finish.s(snapshot_id=plan.snapshot_id, job_id=job_id, end_job=then is None))
    return build if then is None else build | then


@job_task(name="mlcore.build_features", kind="build_features")
def build_features(*, job_id: int, snapshot_at: str | None = None) -> dict:
    """Build the feature snapshot at `snapshot_at` (default the shop's today) in shards; a ready one is kept."""
    when = shop_moment(snapshot_at) if snapshot_at else shop_as_of().moment
    if when is None:
        raise ValueError(f"snapshot_at {snapshot_at!r} is not an ISO date-time")
    plan = features_plan(snapshot_at=when)
    summary = {"snapshot_id": plan.snapshot_id, "customers": plan.customers}
    if plan.ready:
        return {**summary, "message": f"feature snapshot {plan.snapshot_id} was ready"}
    jobs.job_progress(job_id=job_id, done=0, total=plan.customers)
    return {**summary, "shards": len(plan.ranges), "then": features_chord(plan=plan, job_id=job_id),
            "message": f"features of {plan.customers} customers in {len(plan.ranges)} shards"}


@shared_task(name="mlcore.features_shard", base=JobTask, bind=True, acks_late=True)
def features_shard(self, *, snapshot_id: int, first_id: int, end_id: int, job_id: int | None = None) -> dict:
    """Compute one customer-id range's features and replace its rows of the building snapshot (safe to run again)."""
    with beating(self, job_id):
        return feature_shard_write(snapshot_id=snapshot_id, first_id=first_id, end_id=end_id, job_id=job_id)


@shared_task(name="mlcore.features_finish", base=JobTask)
def features_finish(results: list[dict], *, snapshot_id: int, job_id: int | None = None, end_job: bool = True) -> dict:
    """After every shard: the snapshot ready (or FeatureShardsMissing, which fails the job); ends the job unless a task follows."""
    snapshot = feature_snapshot_finish(snapshot_id=snapshot_id, results=results)
    summary = {"snapshot_id": snapshot.pk, "customers": snapshot.customer_count, "shards": len(results)}
    if job_id and end_job:
        jobs.job_succeed(job_id=job_id, result=summary, message=f"feature snapshot {snapshot.pk}: {snapshot.customer_count} customers")
    return summary
