import datetime as dt
import math

import pandas as pd
import pytest

from customers.models import Customer
from infra.bulk import frame_insert
from infra.models import Job
from mlcore.features.selectors import feature_snapshot_frame
from mlcore.features.services import feature_snapshot_build
from mlcore.models import (
    CustomerFeatures,
    FeatureSnapshot,
    ModelVersion,
    SegmentationRun,
    SegmentMembership,
    SegmentTransition,
)
from mlcore.segments import selectors
from mlcore.segments.services import NothingToSegment, segmentation_run_build
from mlcore.segments.tasks import segment_customers
from tests.mlcore.segment_shop import SNAPSHOT, make_shop

pytestmark = pytest.mark.django_db
LATER = SNAPSHOT + dt.timedelta(days=30)


def test_feature_snapshot_is_stored_read_back_and_reused():
    # given the shop, when a snapshot is built twice and read, then one snapshot holds each customer's values
    ids = make_shop()
    first = feature_snapshot_build(snapshot_at=SNAPSHOT)
    assert feature_snapshot_build(snapshot_at=SNAPSHOT) == first
    frame = feature_snapshot_frame(snapshot_id=first)
    assert FeatureSnapshot.objects.get().status == "ready" and len(frame) == 32
    best = frame.loc[ids["best"][0]]
    assert best["frequency"] == 12 and best["monetary"] == pytest.approx(12 * 120)
    assert math.isnan(frame.loc[ids["new"][0], "interpurchase_mean_days"])
    assert math.isnan(best["review_rating_mean"])


def test_feature_snapshot_is_point_in_time():
    # given a snapshot 10 days earlier, when built, then the new customers (first order 5 days before) are absent
    ids = make_shop()
    frame = feature_snapshot_frame(snapshot_id=feature_snapshot_build(snapshot_at=SNAPSHOT - dt.timedelta(days=10)))
    assert not set(ids["new"]) & set(frame.index)
    assert frame.loc[ids["best"][0], "frequency"] == 12 - 1  # the order 3 days before the later snapshot is unseen


def test_frame_insert_writes_nan_as_null():
    # given a frame with a NaN, when inserted, then the row holds NULL
    snapshot = FeatureSnapshot.objects.create(snapshot_at=SNAPSHOT)
    customer = Customer.objects.create(external_id="X1")
    frame = pd.DataFrame({"snapshot_id": [snapshot.pk], "customer_id": [customer.pk], "recency_days": [float("nan")], "frequency": [2.0]})
    assert frame_insert(model=CustomerFeatures, frame=frame) == 1
    row = CustomerFeatures.objects.get()
    assert row.recency_days is None and row.frequency == 2.0


def test_run_stores_named_segments_memberships_and_model_version():
    # given the shop, when segmented, then every customer has one segment, names follow behaviour and the model is registered
    ids = make_shop()
    run = SegmentationRun.objects.get(pk=segmentation_run_build(snapshot_at=SNAPSHOT))
    assert run.status == "ready" and run.k == 4 and run.customer_count == 32
    assert SegmentMembership.objects.filter(run=run).count() == 32
    segment_of = dict(SegmentMembership.objects.filter(run=run).values_list("customer_id", "segment__name"))
    assert {segment_of[c] for c in ids["best"]} == {"Champions"}
    assert {segment_of[c] for c in ids["new"]} == {"New"}
    assert run.model_version.kind == "segmentation" and run.model_version.is_active
    assert run.model_version.metrics["k"] == 4
    assert sum(s.revenue_share for s in run.segments.all()) == pytest.approx(1.0)
    assert list(SegmentTransition.objects.filter(run=run).values_list("from_segment", flat=True).distinct()) == [None]


def test_identity_is_stable_between_two_runs_and_transitions_are_counted():
    # given two runs a month apart, when the second is built, then segment keys carry over and moves are counted
    ids = make_shop()
    first = segmentation_run_build(snapshot_at=SNAPSHOT)
    second = segmentation_run_build(snapshot_at=LATER)
    keys = [set(SegmentationRun.objects.get(pk=r).segments.values_list("key", flat=True)) for r in (first, second)]
    assert keys[0] == keys[1]
    assert SegmentationRun.objects.get(pk=second).metrics["matched_to_previous"] == 4
    champion = ids["best"][0]
    history = list(selectors.customer_segment_history(customer_id=champion).values_list("run_id", "segment__key"))
    assert history == [(second, "champions"), (first, "champions")]
    matrix = selectors.transition_matrix(run_id=second)
    assert sum(map(sum, matrix.counts)) == 32 and "(new)" not in matrix.from_names
    i, j = matrix.from_names.index("Champions"), matrix.to_names.index("Champions")
    assert matrix.counts[i][j] == 8


def test_selectors_for_campaigns():
    # given two runs where nobody changes segment, when campaigns ask, then members and entrants are right
    ids = make_shop()
    assert selectors.current_segments() == [] and list(selectors.customer_ids_in_segments(segment_keys=["new"])) == []
    segmentation_run_build(snapshot_at=SNAPSHOT)
    assert ("champions", "Champions") in selectors.current_segments()
    assert sorted(selectors.customer_ids_in_segments(segment_keys=["champions", "new"])) == sorted(ids["best"] + ids["new"])
    assert sorted(selectors.customer_ids_entered_segment(segment_key="new", since=SNAPSHOT)) == sorted(ids["new"])
    segmentation_run_build(snapshot_at=LATER)
    assert list(selectors.customer_ids_entered_segment(segment_key="champions", since=LATER)) == []
    assert list(selectors.customer_ids_entered_segment(segment_key="champions", since=SNAPSHOT + dt.timedelta(days=40))) == []


def test_entered_segment_counts_customers_who_moved_in():
    # given a customer moved into At risk by the later run, when asked who entered At risk, then only that customer
    ids = make_shop()
    first = segmentation_run_build(snapshot_at=SNAPSHOT)
    second = segmentation_run_build(snapshot_at=LATER)
    mover = ids["best"][0]
    at_risk = SegmentationRun.objects.get(pk=second).segments.get(key="at_risk")
    SegmentMembership.objects.filter(run_id=second, customer_id=mover).update(segment=at_risk)
    assert list(selectors.customer_ids_entered_segment(segment_key="at_risk", since=LATER)) == [mover]
    assert first != second


def test_task_twice_makes_one_run_and_reports_progress():
    # given the shop, when the task runs twice for the same date, then one run exists and both jobs succeeded
    make_shop()
    a = segment_customers.apply(kwargs={"snapshot_at": SNAPSHOT.isoformat()}).get()
    b = segment_customers.apply(kwargs={"snapshot_at": SNAPSHOT.isoformat()}).get()
    assert a["run_id"] == b["run_id"]
    assert SegmentationRun.objects.count() == 1 and SegmentMembership.objects.count() == 32
    assert ModelVersion.objects.filter(kind="segmentation").count() == 1
    jobs = list(Job.objects.filter(kind="segment_customers").values_list("status", "done", "total"))
    assert jobs == [("succeeded", 4, 4), ("succeeded", 4, 4)]


def test_task_on_an_empty_shop_skips_with_a_reason():
    # given no orders, when the task runs, then the job succeeds saying there was nothing to segment
    result = segment_customers.apply(kwargs={"snapshot_at": SNAPSHOT.isoformat()}).get()
    assert result["run_id"] is None and "nothing to segment" in result["skipped"]
    assert Job.objects.get().result["skipped"].startswith("Only 0 customers")
    with pytest.raises(NothingToSegment):
        segmentation_run_build(snapshot_at=SNAPSHOT)


def test_task_name_is_stable():
    # given the deployed beat schedule, when the task is looked up, then its name and queue are the scheduled ones
    from django.conf import settings

    assert segment_customers.name == "mlcore.segment_customers"
    assert settings.CELERY_BEAT_SCHEDULE["segment-customers-nightly"]["task"] == segment_customers.name


def test_command_prints_the_segments():
    # given the shop, when the command runs, then it lists the segments by name
    import io

    from django.core.management import call_command

    make_shop()
    out = io.StringIO()
    call_command("segment_customers", "--snapshot-at", "2011-12-10", "--k", "4", stdout=out)
    assert "Champions" in out.getvalue() and SegmentationRun.objects.get().k == 4


def test_snapshot_carries_the_recent_review_sentiment_point_in_time():
    # given a customer with a scored negative review before the snapshot and a positive one after, then only the earlier counts
    from django.utils import timezone as tz

    from customers.models import Review
    from mlcore.models import ReviewSentiment

    ids = make_shop()
    customer = Customer.objects.get(pk=ids["best"][0])
    for days, score, label in ((-10, -0.8, "negative"), (5, 0.9, "positive")):
        review = Review.objects.create(customer=customer, rating=1 if score < 0 else 5, text="x", language="en",
                                       created_at=SNAPSHOT + dt.timedelta(days=days))
        ReviewSentiment.objects.create(review=review, language="en", score=score, label=label, method="fallback", scored_at=tz.now())
    frame = feature_snapshot_frame(snapshot_id=feature_snapshot_build(snapshot_at=SNAPSHOT))
    assert frame.loc[customer.pk, "review_count"] == 1
    assert frame.loc[customer.pk, "review_sentiment_mean"] == pytest.approx(-0.8)
    assert frame.loc[ids["new"][0], "review_count"] == 0


def test_frame_insert_round_trips_mixed_null_patterns():
    # given rows with different NULL patterns, when inserted (binary COPY on PostgreSQL), then each value reads back
    snapshot = FeatureSnapshot.objects.create(snapshot_at=SNAPSHOT)
    customers = Customer.objects.bulk_create([Customer(external_id=f"X{i}") for i in range(4)])
    nan = float("nan")
    frame = pd.DataFrame({
        "snapshot_id": snapshot.pk, "customer_id": [c.pk for c in customers],
        "recency_days": [1.5, nan, 3.0, nan], "monetary": [-2.25, 10.0, nan, nan], "frequency": [1.0, 2.0, 3.0, 4.0],
    })
    frame_insert(model=CustomerFeatures, frame=frame)
    rows = sorted(CustomerFeatures.objects.values_list("customer_id", "recency_days", "monetary", "frequency"))
    assert rows == [(customers[0].pk, 1.5, -2.25, 1.0), (customers[1].pk, None, 10.0, 2.0),
                    (customers[2].pk, 3.0, None, 3.0), (customers[3].pk, None, None, 4.0)]


def test_deleting_a_customer_still_removes_their_rows():
    # given a segmented customer, when deleted through Django, then their feature and membership rows go too
    ids = make_shop()
    segmentation_run_build(snapshot_at=SNAPSHOT)
    victim = ids["gone"][0]
    from customers.models import Order

    Order.objects.filter(customer_id=victim).delete()
    Customer.objects.filter(pk=victim).delete()
    assert not SegmentMembership.objects.filter(customer_id=victim).exists()
    assert not CustomerFeatures.objects.filter(customer_id=victim).exists()


def test_frame_insert_takes_text_columns_too():
    # given text with a tab and a backslash, when inserted (CSV COPY on PostgreSQL), then it reads back unchanged
    frame = pd.DataFrame({"external_id": ["T1", "T\\2"], "name": ["tab\there", "line"], "email": "", "country": "",
                          "email_consent": False, "email_consent_source": "",
                          "created_at": SNAPSHOT.isoformat(), "updated_at": SNAPSHOT.isoformat()})
    assert frame_insert(model=Customer, frame=frame) == 2
    assert sorted(Customer.objects.values_list("external_id", "name")) == [("T1", "tab\there"), ("T\\2", "line")]


def test_segment_descriptions_use_the_shop_currency(settings):
    # given a USD shop when segments are built then their descriptions show dollars, never pounds
    settings.SHOP_CURRENCY = "USD"
    make_shop()
    run = SegmentationRun.objects.get(pk=segmentation_run_build(snapshot_at=SNAPSHOT))
    descriptions = [s.description for s in run.segments.all()]
    assert all("$" in d and "£" not in d for d in descriptions)


def test_pruning_keeps_tonights_and_the_cut_off_grid_and_drops_old_daily_snapshots():
    # given daily snapshots over 40 days and grid snapshots older than a year, when pruned, then old daily and
    # very old grid ones go with their rows, and the recent days and the grid dates still needed stay
    from mlcore.features.services import feature_snapshots_prune, on_grid
    from tests.customers.factories import CustomerFactory

    now = dt.datetime(2011, 12, 10, tzinfo=dt.UTC)
    for days in [*range(0, 40), 420, 427]:
        at = now - dt.timedelta(days=days)
        snapshot = FeatureSnapshot.objects.create(snapshot_at=at, status="ready", definition="d")
        CustomerFeatures.objects.create(snapshot=snapshot, customer=CustomerFactory(), recency_days=1.0)
    pruned = feature_snapshots_prune(before=now - dt.timedelta(days=280), keep_days=14, grid_keep_days=400, grid_days=7, now=now)
    kept = sorted((now - s).days for s in FeatureSnapshot.objects.values_list("snapshot_at", flat=True))
    assert kept == sorted([*range(0, 15), *[d for d in range(15, 40) if on_grid(pd.Timestamp(now - dt.timedelta(days=d)), 7)]])
    assert pruned == 42 - len(kept) and CustomerFeatures.objects.count() == len(kept)
