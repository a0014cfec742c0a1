"""The feature snapshot built in shards: many shards == one shard == the one-process frame, reruns,
failures, and a snapshot never read as ready while shards are missing."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from customers import selectors as shop
from customers.models import Customer, Event, Order, OrderLine, Product, Review
from infra.models import Job
from mlcore.features import services, shards
from mlcore.features.selectors import (
    feature_snapshot_frame,
    feature_snapshot_latest,
    review_signals_frame,
    support_events_frame,
)
from mlcore.features.tasks import build_features, features_chord
from mlcore.ml.features import FeatureConfig, customer_features
from mlcore.ml.synthetic import SyntheticConfig, generate_order_lines
from mlcore.models import CustomerFeatures, FeatureSnapshot

pytestmark = pytest.mark.django_db
CONFIG = FeatureConfig(window_days=60)


def load_shop(n_customers: int = 300, seed: int = 5) -> pd.Timestamp:
    """A generated shop (mlcore.ml.synthetic) in the database, with reviews and support contacts; returns a snapshot date inside it."""
    lines = generate_order_lines(SyntheticConfig(n_customers=n_customers, n_products=60, horizon_days=400, seed=seed))
    lines["placed_at"] = lines["placed_at"].dt.floor("s")
    categories = {pid: (None if pid % 13 == 0 else f"Category {pid % 11}") for pid in lines["product_id"].unique()}
    products = {p.sku: p for p in Product.objects.bulk_create(
        [Product(sku=f"P{pid}", title=f"P{pid}", category=categories[pid] or "") for pid in sorted(categories)])}
    customers = {c.external_id: c for c in Customer.objects.bulk_create([Customer(external_id=f"C{i}") for i in sorted(lines["customer_id"].unique())])}
    heads = lines.groupby("order_id").agg(customer_id=("customer_id", "first"), placed_at=("placed_at", "first"), status=("status", "first"))
    orders = Order.objects.bulk_create([Order(external_id=f"O{oid}", customer=customers[f"C{row.customer_id}"], placed_at=row.placed_at.to_pydatetime(),
                                              status=row.status) for oid, row in heads.iterrows()])
    by_id = dict(zip(heads.index, orders, strict=True))
    OrderLine.objects.bulk_create([OrderLine(order=by_id[r.order_id], line_no=i, product=products[f"P{r.product_id}"], quantity=int(r.quantity),
                                             unit_price=f"{r.unit_price:.2f}") for i, r in enumerate(lines.itertuples())])
    snapshot = lines["placed_at"].sort_values().iloc[int(len(lines) * 0.8)].floor("D")
    rng = np.random.default_rng(seed)
    some = list(customers.values())[::4]
    Review.objects.bulk_create([Review(customer=c, product=products["P1"], rating=int(rng.integers(1, 6)), text="ok",
                                       created_at=(snapshot - pd.Timedelta(days=int(rng.integers(1, 200)))).to_pydatetime()) for c in some])
    Event.objects.bulk_create([Event(customer=c, kind=Event.Kind.SUPPORT_CONTACT if i % 2 else Event.Kind.SUPPORT_NEGATIVE,
                                     occurred_at=(snapshot - pd.Timedelta(days=i % 120 + 1)).to_pydatetime()) for i, c in enumerate(some)])
    return snapshot


@pytest.fixture
def snapshot_at():
    return load_shop().to_pydatetime()


def build(snapshot_at, size: int) -> tuple[int, pd.DataFrame]:
    return shards.feature_snapshot_build_sharded(snapshot_at=snapshot_at, config=CONFIG, size=size)


def test_many_shards_give_the_rows_of_one_shard_and_of_the_one_process_frame(snapshot_at):
    # given a generated shop, when the snapshot is built in 1 shard and (another trend window) in 7+, then the stored rows are equal, column by column
    one_id, one = build(snapshot_at, size=10_000)
    many_id, many = shards.feature_snapshot_build_sharded(snapshot_at=snapshot_at, config=FeatureConfig(window_days=60, trend_days=91), size=40)
    assert len(FeatureSnapshot.objects.get(pk=many_id).params["shards"]) >= 7
    stored_one, stored_many = feature_snapshot_frame(snapshot_id=one_id), feature_snapshot_frame(snapshot_id=many_id)
    same = [c for c in stored_one.columns if c not in ("orders_last_90", "orders_prev_90", "spend_last_90", "spend_prev_90", "activity_trend")]
    pd.testing.assert_frame_equal(stored_one[same], stored_many[same], check_exact=False, rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(one, stored_one, check_exact=True)  # the frame handed back is the stored one
    # and equal to the old path: every line read at once, every customer computed in one process (its shop-level context from those lines)
    lines = shop.order_lines_frame(until=snapshot_at)
    whole = customer_features(lines, snapshot=snapshot_at, reviews=review_signals_frame(until=snapshot_at),
                              events=support_events_frame(until=snapshot_at), config=CONFIG)
    pd.testing.assert_frame_equal(stored_one, whole, check_exact=False, rtol=1e-12, atol=1e-12)
    assert stored_one["review_count"].sum() > 0 and stored_one["support_negative_recent"].sum() > 0
    assert FeatureSnapshot.objects.get(pk=one_id).params["basket_vocabulary"] == whole.attrs["basket_vocabulary"]


def test_the_same_definition_in_many_shards_equals_one_shard(snapshot_at):
    # given the snapshot built in one shard, when the same definition is rebuilt in shards of 25 customers, then every value is the same
    # (to the last bits: pandas' grouped sums of the lifetime summary may round a few values differently for a different set of customers)
    one_id, _ = build(snapshot_at, size=10_000)
    one = feature_snapshot_frame(snapshot_id=one_id)
    FeatureSnapshot.objects.filter(pk=one_id).delete()
    many_id, _ = build(snapshot_at, size=25)
    assert len(FeatureSnapshot.objects.get(pk=many_id).params["shards"]) == -(-len(one) // 25)
    pd.testing.assert_frame_equal(one, feature_snapshot_frame(snapshot_id=many_id), check_exact=False, rtol=1e-12, atol=1e-12)
    assert FeatureSnapshot.objects.get(pk=many_id).customer_count == len(one)


def test_a_shard_run_again_changes_nothing(snapshot_at):
    # given a building snapshot with its shards written, when one shard runs again, then its rows and the row count are unchanged
    plan = shards.feature_snapshot_plan(snapshot_at=snapshot_at, config=CONFIG, size=50)
    results = [shards.feature_shard_write(snapshot_id=plan.snapshot_id, first_id=a, end_id=b) for a, b in plan.ranges]
    before = feature_snapshot_frame(snapshot_id=plan.snapshot_id)
    first_id, end_id = plan.ranges[1]
    again = shards.feature_shard_write(snapshot_id=plan.snapshot_id, first_id=first_id, end_id=end_id)
    assert again["customers"] == results[1]["customers"] > 0
    pd.testing.assert_frame_equal(before, feature_snapshot_frame(snapshot_id=plan.snapshot_id), check_exact=True)
    assert CustomerFeatures.objects.filter(snapshot_id=plan.snapshot_id).count() == plan.customers


def test_the_snapshot_is_not_ready_while_a_shard_is_missing(snapshot_at):
    # given every shard but the last written, when read or finished, then no reader sees it ready and finish refuses; the last shard makes it ready
    plan = shards.feature_snapshot_plan(snapshot_at=snapshot_at, config=CONFIG, size=60)
    results = [shards.feature_shard_write(snapshot_id=plan.snapshot_id, first_id=a, end_id=b) for a, b in plan.ranges[:-1]]
    assert services.feature_snapshot_ready(snapshot_at=snapshot_at, config=CONFIG) is None and feature_snapshot_latest() is None
    with pytest.raises(shards.FeatureShardsMissing):
        shards.feature_snapshot_finish(snapshot_id=plan.snapshot_id, results=results)
    assert FeatureSnapshot.objects.get(pk=plan.snapshot_id).status == FeatureSnapshot.Status.BUILDING
    # a rerun of the plan adopts the building snapshot (the written shards stay) and the missing shard completes it
    again = shards.feature_snapshot_plan(snapshot_at=snapshot_at, config=CONFIG, size=60)
    assert again.snapshot_id == plan.snapshot_id and again.ranges == plan.ranges
    results.append(shards.feature_shard_write(snapshot_id=plan.snapshot_id, first_id=plan.ranges[-1][0], end_id=plan.ranges[-1][1]))
    ready = shards.feature_snapshot_finish(snapshot_id=plan.snapshot_id, results=results)
    assert ready.status == FeatureSnapshot.Status.READY and ready.customer_count == plan.customers
    assert services.feature_snapshot_ready(snapshot_at=snapshot_at, config=CONFIG).pk == plan.snapshot_id


def test_the_task_builds_in_shards_on_one_job(snapshot_at, settings):
    # given shards of 80 customers, when mlcore.build_features runs (eager: the chord in-process), then one job counts every customer and the snapshot is ready
    settings.FEATURE_SHARD_CUSTOMERS = 80
    result = build_features.apply(kwargs={"snapshot_at": snapshot_at.isoformat()}).get()
    job = Job.objects.get(pk=result["job_id"])
    snapshot = FeatureSnapshot.objects.get(pk=result["snapshot_id"])
    assert snapshot.status == FeatureSnapshot.Status.READY and snapshot.customer_count == result["customers"] == job.done == job.total
    assert job.status == Job.Status.SUCCEEDED and job.result["shards"] == result["shards"] > 1 and Job.objects.count() == 1
    assert build_features.apply(kwargs={"snapshot_at": snapshot_at.isoformat()}).get()["snapshot_id"] == snapshot.pk  # ready: kept


def test_a_failing_shard_fails_the_job_with_its_reason_and_leaves_the_snapshot_not_ready(snapshot_at, settings, monkeypatch):
    # given the second shard's read breaking, when the task runs, then the job is failed with the reason and the snapshot is still building
    settings.FEATURE_SHARD_CUSTOMERS = 80
    plan = shards.feature_snapshot_plan(snapshot_at=snapshot_at, config=services.feature_config_resolve(snapshot_at=snapshot_at), size=80)
    real = shards.feature_shard_frame

    def broken(*, snapshot, first_id, end_id):
        if (first_id, end_id) == plan.ranges[1]:
            raise RuntimeError("order lines unreadable")
        return real(snapshot=snapshot, first_id=first_id, end_id=end_id)

    monkeypatch.setattr(shards, "feature_shard_frame", broken)
    with pytest.raises(RuntimeError):
        build_features.apply(kwargs={"snapshot_at": snapshot_at.isoformat()}).get()
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED and "order lines unreadable" in job.error
    assert FeatureSnapshot.objects.get().status == FeatureSnapshot.Status.BUILDING and feature_snapshot_latest() is None


def test_the_nightly_segmentation_waits_for_the_sharded_snapshot(snapshot_at, settings, monkeypatch):
    # given a broker (the chord path, here run eagerly), when segment_customers runs, then the snapshot is built in shards first and the same job ends with the segmentation
    from mlcore.segments import tasks as segment_tasks
    from mlcore.segments.models import SegmentationRun

    settings.FEATURE_SHARD_CUSTOMERS = 80
    monkeypatch.setattr(segment_tasks, "dispatching", lambda: True)
    result = segment_tasks.segment_customers.apply(kwargs={"snapshot_at": snapshot_at.isoformat()}).get()
    job = Job.objects.get(pk=result["job_id"])
    run = SegmentationRun.objects.get()
    assert job.status == Job.Status.SUCCEEDED and Job.objects.count() == 1 and job.result["run_id"] == run.pk
    assert run.feature_snapshot_id == result["snapshot_id"] and FeatureSnapshot.objects.get().status == FeatureSnapshot.Status.READY


def test_the_chord_of_a_ready_snapshot_is_not_run_twice(snapshot_at):
    # given a snapshot made ready, when its chord is delivered again, then the shards write nothing and finish keeps it as it is
    plan = shards.feature_snapshot_plan(snapshot_at=snapshot_at, config=CONFIG, size=100)
    job = Job.objects.create(kind="build_features")
    features_chord(plan=plan, job_id=job.pk).apply()
    rows = CustomerFeatures.objects.filter(snapshot_id=plan.snapshot_id).count()
    summary = features_chord(plan=plan, job_id=job.pk).apply().get()
    assert summary["customers"] == rows == plan.customers and FeatureSnapshot.objects.get().status == FeatureSnapshot.Status.READY


def test_an_empty_shop_gives_an_empty_ready_snapshot(db):
    # given no order, when built, then the snapshot is ready with no customer (as the one-process build stored it)
    snapshot_id, frame = shards.feature_snapshot_build_sharded(snapshot_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), config=CONFIG)
    assert frame.empty and FeatureSnapshot.objects.get(pk=snapshot_id).status == FeatureSnapshot.Status.READY


def test_of_two_concurrent_builds_of_one_snapshot_the_first_ready_is_kept(snapshot_at):
    # given two building snapshots of one date and definition (two planners at once), when both finish, then the second yields to the first and one ready snapshot is left
    first = shards.feature_snapshot_plan(snapshot_at=snapshot_at, config=CONFIG, size=100)
    second = FeatureSnapshot.objects.create(snapshot_at=snapshot_at, definition=CONFIG.key, params=FeatureSnapshot.objects.get(pk=first.snapshot_id).params)
    for snapshot_id in (first.snapshot_id, second.pk):
        results = [shards.feature_shard_write(snapshot_id=snapshot_id, first_id=a, end_id=b) for a, b in first.ranges]
        kept = shards.feature_snapshot_finish(snapshot_id=snapshot_id, results=results)
    assert kept.pk == first.snapshot_id and list(FeatureSnapshot.objects.values_list("pk", "status")) == [(first.snapshot_id, "ready")]
    assert CustomerFeatures.objects.count() == first.customers


def test_the_shops_definition_comes_from_its_purchase_orders_as_from_its_lines(snapshot_at):
    # given no churn model, when the snapshot's definition is resolved, then it is the horizons' of every line, read from the purchase orders only
    from mlcore.predictions.horizons import horizons_of

    window = horizons_of(shop.order_lines_frame(until=snapshot_at)).churn_window_days
    assert services.feature_config_resolve(snapshot_at=snapshot_at) == FeatureConfig(window_days=window)
    assert len(shop.purchase_orders_frame(until=snapshot_at)) == shop.order_lines_frame(until=snapshot_at).query("quantity > 0")["order_id"].nunique()
