import math

import pandas as pd
import pytest

from mlcore.ml.features import build_customer_features

SNAP = pd.Timestamp("2011-07-01", tz="UTC")


def line(order, customer, day, product, qty, price, category="Home", kind="product"):
    return {
        "order_id": order, "customer_id": customer, "placed_at": pd.Timestamp(day, tz="UTC"),
        "product_id": product, "category": category, "product_kind": kind,
        "quantity": qty, "unit_price": price, "amount": qty * price,
    }


@pytest.fixture
def lines() -> pd.DataFrame:
    rows = [
        # customer 1: orders on Jan 1, Mar 2 and Jun 1 (gaps 60 and 91 days), one return, a fee line
        line(1, 1, "2011-01-01", 10, 2, 5.0),
        line(1, 1, "2011-01-01", 11, 1, 10.0, category="Garden"),
        line(2, 1, "2011-03-02", 10, 4, 5.0),
        line(3, 1, "2011-06-01", 12, 1, 30.0, category="Kitchen"),
        line(3, 1, "2011-06-01", 99, 1, 15.0, kind="fee"),
        line(4, 1, "2011-06-10", 10, -2, 5.0),
        # customer 2: one order, then an order after the snapshot that must be ignored
        line(5, 2, "2011-04-02", 10, 1, 8.0),
        line(6, 2, "2011-08-01", 10, 100, 8.0),
        # a guest sale: never a customer row
        line(7, None, "2011-02-01", 10, 3, 5.0),
    ]
    return pd.DataFrame(rows)


def test_purchase_features_have_known_values(lines):
    # given a hand-made log with returns, fees and guests, when features are built, then each equals the hand count
    f = build_customer_features(lines, snapshot=SNAP)
    assert list(f.index) == [1, 2]
    c1 = f.loc[1]
    assert c1["recency_days"] == 30
    assert c1["tenure_days"] == 181
    assert c1["frequency"] == 3
    assert c1["monetary"] == pytest.approx(20 + 20 + 30 - 10)  # gross 70, return 10, fee left out
    assert c1["avg_order_value"] == pytest.approx(70 / 3)
    assert c1["interpurchase_mean_days"] == pytest.approx((60 + 91) / 2)
    assert c1["interpurchase_std_days"] == pytest.approx(15.5)
    assert c1["return_rate"] == pytest.approx(2 / 8)
    assert c1["distinct_products"] == 3 and c1["distinct_categories"] == 3
    # last 90 days: from 2011-04-02; previous 90: 2011-01-02 .. 2011-04-01
    assert (c1["orders_last_90"], c1["orders_prev_90"]) == (1, 1)
    assert (c1["spend_last_90"], c1["spend_prev_90"]) == (30.0, 20.0)
    assert c1["activity_trend"] == pytest.approx((30 - 20) / 50)


def test_single_order_customer_and_point_in_time(lines):
    # given customer 2 with one order before and a big one after the snapshot, then only the first counts
    c2 = build_customer_features(lines, snapshot=SNAP).loc[2]
    assert c2["frequency"] == 1 and c2["monetary"] == 8.0
    assert math.isnan(c2["interpurchase_mean_days"])
    assert c2["recency_days"] == 90


def test_snapshot_excludes_everything_from_that_moment_on(lines):
    # given a snapshot on the day of an order, when built, then that order is not yet seen
    f = build_customer_features(lines, snapshot="2011-06-01")
    assert f.loc[1, "frequency"] == 2
    later = build_customer_features(lines, snapshot="2011-06-01 00:00:01")
    assert later.loc[1, "frequency"] == 3


def test_reviews_and_events_join_point_in_time(lines):
    # given reviews and events before and after the snapshot, then only earlier ones count
    reviews = pd.DataFrame({
        "customer_id": [1, 1, 2], "rating": [5, 1, 3], "sentiment": [0.9, -0.8, 0.0],
        "created_at": pd.to_datetime(["2011-02-01", "2011-06-15", "2011-09-01"], utc=True),
    })
    events = pd.DataFrame({
        "customer_id": [1, 1, 2], "kind": ["view", "click", "view"],
        "occurred_at": pd.to_datetime(["2011-05-01", "2011-05-02", "2011-12-01"], utc=True),
    })
    f = build_customer_features(lines, snapshot=SNAP, reviews=reviews, events=events)
    assert f.loc[1, "review_count"] == 2 and f.loc[1, "review_rating_mean"] == 3.0
    assert f.loc[1, "review_sentiment_mean"] == pytest.approx(0.05)
    assert f.loc[2, "review_count"] == 0 and math.isnan(f.loc[2, "review_rating_mean"])
    assert (f.loc[1, "event_count"], f.loc[1, "events_view"], f.loc[1, "events_click"]) == (2, 1, 1)
    assert f.loc[2, "event_count"] == 0


def test_customer_features_give_every_defined_feature_once_and_agree_with_the_parts(lines):
    # given the hand-made log, when every feature is built, then the columns are FEATURES in order and each part's value is kept
    from mlcore.ml.churn_signals import signal_features
    from mlcore.ml.features import FEATURES, STORED_FEATURES, FeatureConfig, customer_features

    f = customer_features(lines, snapshot=SNAP, config=FeatureConfig(window_days=30))
    assert list(f.columns) == STORED_FEATURES == list(FEATURES) and len(set(STORED_FEATURES)) == len(STORED_FEATURES)
    base = build_customer_features(lines, snapshot=SNAP)
    pd.testing.assert_frame_equal(f[base.columns], base.astype("float64"))
    signals = signal_features(lines, SNAP, window_days=30, vocabulary=f.attrs["basket_vocabulary"])
    pd.testing.assert_frame_equal(f[signals.columns], signals.astype("float64"))
    assert f.attrs["basket_vocabulary"] == ["Home", "Kitchen", "Garden"]  # the shop's categories by sales before the snapshot (38, 30, 10)
    assert f.loc[1, "overdue_ratio"] == pytest.approx(f.loc[1, "recency_days"] / f.loc[1, "interpurchase_mean_days"])
    assert f.loc[1, "net_spend_365"] == pytest.approx(20.0 + 20.0 + 30.0 - 10.0)  # sales minus the return, no fee


def test_the_stored_lifetime_summary_is_the_bgnbd_summary_in_any_unit(lines):
    # given the features' day-based summary, when read in weeks, then it equals BG/NBD's own summary in weeks
    from mlcore.ml.features import customer_features, lifetime_summary
    from mlcore.ml.predictions.bgnbd import rfm_summary

    summary = lifetime_summary(customer_features(lines, snapshot=SNAP), unit_days=7.0)
    pd.testing.assert_frame_equal(summary, rfm_summary(lines, snapshot=SNAP, unit_days=7.0)[summary.columns], check_dtype=False)


def test_docs_features_table_is_the_one_definition_of_every_feature():
    # given the FEATURES mapping, when docs/features.md is read, then its table lists each feature once with the same definition
    from pathlib import Path

    from mlcore.ml.features import FEATURES

    rows = [line.split(" | ") for line in (Path(__file__).resolve().parents[3] / "docs" / "features.md").read_text().splitlines() if line.startswith("| `")]
    documented = {cells[0].strip("| `"): cells[2] for cells in rows}
    assert list(documented) == list(FEATURES)
    assert all(documented[name] == definition for name, definition in FEATURES.items())


def test_shards_of_customers_given_the_shop_context_give_the_whole_shops_rows():
    # given a generated shop cut into 6 customer-id ranges, when each range is computed with the shop's context, then the rows are the whole frame's, value for value
    import numpy as np

    from mlcore.ml.churn_signals import population_survival
    from mlcore.ml.features import customer_features, feature_context
    from mlcore.ml.synthetic import SyntheticConfig, generate_order_lines

    lines = generate_order_lines(SyntheticConfig(n_customers=1500, n_products=200, horizon_days=500, seed=11))
    snap = lines["placed_at"].sort_values().iloc[int(len(lines) * 0.8)].floor("D")
    whole = customer_features(lines, snapshot=snap)
    context = feature_context(lines, snapshot=snap)
    ranges = np.array_split(np.sort(lines["customer_id"].unique()), 6)
    parts = [customer_features(lines[lines["customer_id"].isin(ids)], snapshot=snap, context=context) for ids in ranges]
    pd.testing.assert_frame_equal(pd.concat(parts).sort_index(), whole, check_exact=True)
    assert list(context.vocabulary) == whole.attrs["basket_vocabulary"] and sum(context.gap_counts) > len(whole) // 2
    # the histogram's survival is the survival over every gap (the form it replaced)
    gaps = np.repeat(context.histogram[0], context.histogram[1])
    t = np.arange(0.0, 400.0, 7.0)
    expected = (len(gaps) - np.searchsorted(np.sort(gaps), t, side="right") + 1.0) / (len(gaps) + 1.0)
    assert np.array_equal(population_survival(*context.histogram)(t), expected)
