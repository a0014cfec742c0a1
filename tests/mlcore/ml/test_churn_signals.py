"""The churn signals beyond R/F/M, net spend in the value model, calibration and the value interval, on tiny frames."""
import numpy as np
import pandas as pd
import pytest

from mlcore.ml.churn_signals import SIGNAL_FEATURES, signal_features
from mlcore.ml.predictions import bgnbd, gamma_gamma
from mlcore.ml.predictions.churn import ChurnConfig, fit_churn, labelled_frame, training_frame
from mlcore.ml.predictions.metrics import expected_calibration_error, lift_deciles, paired_bootstrap
from mlcore.ml.predictions.value_intervals import bootstrap_draws, value_interval, value_reasons
from mlcore.ml.sales import net as net_lines
from tests.mlcore.prediction_shop import shop_lines as generated_lines

SNAP = pd.Timestamp("2011-06-01", tz="UTC")


def frame(rows, columns=("customer_id", "order_id", "placed_at", "category", "quantity", "unit_price", "status")) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(columns))
    out["placed_at"] = pd.to_datetime(out["placed_at"], utc=True)
    out["amount"] = out["quantity"] * out["unit_price"]
    out["product_id"] = 1
    out["product_kind"] = "product"
    return out


def every(days: int, n: int, customer: int, start="2011-01-01", category="MUG", price=10.0):
    first = pd.Timestamp(start)
    return [(customer, f"{customer}-{i}", first + pd.Timedelta(days=days * i), category, 1, price, "placed") for i in range(n)]


def test_cadence_hazard_is_high_for_a_regular_customer_due_now_and_low_for_one_far_past_their_rhythm():
    # given customer 1 ordering every 30 days up to 20 days ago and customer 2 ordering every 7 days but silent for 100,
    # when the signals are built for a 30-day window, then 1's hazard is high and 2's low, and 2 is further overdue
    lines = frame(every(30, 5, 1, start="2011-01-12") + every(7, 8, 2, start="2011-01-01"))
    out = signal_features(lines, SNAP, window_days=30, vocabulary=["MUG"])
    assert list(out.columns) == SIGNAL_FEATURES
    assert out.loc[1, "cadence_hazard"] > 0.8 > 0.3 > out.loc[2, "cadence_hazard"]
    assert out.loc[2, "overdue_z"] > out.loc[1, "overdue_z"]


def test_same_months_last_year_count_orders_in_the_coming_window_a_year_before():
    # given customer 1 with two orders in June 2010 and customer 2 who started in 2011, when built at 2011-06-01 for 30
    # days, then 1 has 2 orders there and 2 is unknown (NaN): not yet a customer then
    lines = frame([(1, "a", "2010-06-03", "MUG", 1, 5.0, "placed"), (1, "b", "2010-06-20", "MUG", 2, 5.0, "placed"),
                   (1, "c", "2011-03-01", "MUG", 1, 5.0, "placed"), (2, "d", "2011-02-01", "MUG", 1, 5.0, "placed")])
    out = signal_features(lines, SNAP, window_days=30, vocabulary=["MUG"])
    assert out.loc[1, "orders_same_window_last_year"] == 2 and out.loc[1, "spend_same_window_last_year"] == 15.0
    assert np.isnan(out.loc[2, "orders_same_window_last_year"])


def test_basket_shares_follow_the_vocabulary_and_concentration_is_the_sum_of_squares():
    # given a customer spending 30 on BAG and 10 on MUG, when built with the vocabulary [MUG, BAG], then shares 0.25 / 0.75
    lines = frame([(1, "a", "2011-02-01", "MUG", 1, 10.0, "placed"), (1, "b", "2011-03-01", "BAG", 3, 10.0, "placed")])
    out = signal_features(lines, SNAP, window_days=30, vocabulary=["MUG", "BAG"]).loc[1]
    assert (out["basket_share_1"], out["basket_share_2"], out["basket_share_3"]) == (0.25, 0.75, 0.0)
    assert out["basket_share_other"] == pytest.approx(0.0) and out["basket_concentration"] == pytest.approx(0.625)


def test_returns_share_counts_credit_notes_and_their_orders():
    # given two sale orders of 50 and a credit note of -25, when built, then a quarter of the value and half the orders returned
    lines = frame([(1, "a", "2011-02-01", "MUG", 5, 10.0, "placed"), (1, "b", "2011-03-01", "MUG", 5, 10.0, "placed"),
                   (1, "Cb", "2011-03-05", "MUG", -2.5, 10.0, "cancelled")])
    out = signal_features(lines, SNAP, window_days=30, vocabulary=["MUG"]).loc[1]
    assert out["return_value_share"] == 0.25 and out["returned_order_share"] == 0.5


def test_reviews_and_support_contacts_count_only_the_recent_window_before_the_snapshot():
    # given reviews and support events before, inside and after the 90 days before the snapshot, when built, then only those
    # inside count; a 1-star review and a negative sentiment are negative ones
    lines = frame([(1, "a", "2011-02-01", "MUG", 1, 10.0, "placed"), (2, "b", "2011-02-01", "MUG", 1, 10.0, "placed")])
    reviews = pd.DataFrame({"customer_id": [1, 1, 1, 1], "rating": [1, 5, 4, 2], "sentiment": [-0.8, 0.9, -0.2, np.nan],
                            "created_at": pd.to_datetime(["2011-05-01", "2011-05-10", "2011-04-01", "2010-12-01"], utc=True)})
    events = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2], "kind": ["support", "support_neg", "view", "support", "support"],
                           "occurred_at": pd.to_datetime(["2011-05-01", "2011-05-02", "2011-05-03", "2011-06-02", "2011-01-01"], utc=True)})
    out = signal_features(lines, SNAP, window_days=30, vocabulary=["MUG"], reviews=reviews, events=events)
    assert out.loc[1, "reviews_recent"] == 3 and out.loc[1, "reviews_negative_recent"] == 2
    assert out.loc[1, "review_rating_recent"] == pytest.approx(10 / 3) and out.loc[1, "review_sentiment_recent"] == pytest.approx(-0.1 / 3)
    assert (out.loc[1, "support_contacts_recent"], out.loc[1, "support_negative_recent"]) == (1, 1)
    assert out.loc[2, "support_contacts_recent"] == 0 and out.loc[2, "reviews_recent"] == 0


def test_a_cancelled_order_on_its_own_day_adds_no_purchase_and_no_value():
    # given Online Retail's customer 16446 (two small items in May, then an 80,995-unit order cancelled the same day) among
    # ordinary repeat buyers, when the value summary and 12-month value are computed, then they equal those without the pair
    base = [(16446, "8062", "2011-05-18 08:52", "CRAFT", 1, 1.65, "placed"), (16446, "8062", "2011-05-18 08:52", "CRAFT", 1, 1.25, "placed")]
    others = [row for c in range(1, 30) for row in every(20 + c, 4, c, start="2011-06-01", price=5.0 + c)]
    pair = [(16446, "581483", "2011-12-09 09:15", "CRAFT", 80995, 2.08, "placed"), (16446, "C581484", "2011-12-09 09:27", "CRAFT", -80995, 2.08, "cancelled")]
    snap = pd.Timestamp("2011-12-10", tz="UTC")
    with_pair, without = (bgnbd.rfm_summary(frame(base + others + extra), snapshot=snap) for extra in (pair, []))
    pd.testing.assert_frame_equal(with_pair, without)
    assert with_pair.loc[16446, "frequency"] == 0 and with_pair.loc[16446, "monetary"] == 0.0
    params_bg = bgnbd.fit_bgnbd(without["frequency"], without["recency"], without["T"])
    params_gg = gamma_gamma.fit_gamma_gamma(without["frequency"], without["monetary"])
    value = gamma_gamma.customer_lifetime_value(params_bg, params_gg, *(with_pair.loc[[16446], c] for c in ("frequency", "recency", "T", "monetary")))
    assert value[0] < 1000  # the population's spend per purchase, not 168,470


def test_net_lines_drop_positive_lines_of_cancelled_orders_and_keep_credit_notes():
    # given a sale, a cancelled order's positive line and a credit note, when netted, then the cancelled sale is left out
    lines = frame([(1, "a", "2011-02-01", "MUG", 2, 10.0, "placed"), (1, "b", "2011-02-02", "MUG", 3, 10.0, "cancelled"),
                   (1, "c", "2011-02-03", "MUG", -1, 10.0, "returned")])
    assert net_lines(lines)["amount"].sum() == 10.0


def test_a_return_filed_later_scales_the_repeat_spend_down():
    # given two 100 purchase days and a later 50 return, when summarised, then the repeat day's spend is 75 (a quarter undone)
    lines = frame([(1, "a", "2011-02-01", "MUG", 10, 10.0, "placed"), (1, "b", "2011-03-01", "MUG", 10, 10.0, "placed"),
                   (1, "Cb", "2011-03-10", "MUG", -5, 10.0, "cancelled")])
    summary = bgnbd.rfm_summary(lines, snapshot=SNAP)
    assert summary.loc[1, "frequency"] == 1 and summary.loc[1, "monetary"] == 75.0


def test_spend_cap_limits_one_extreme_repeat_spend():
    # given repeat spends 10..100 and one of 1,000,000, when capped at the 90th percentile, then the extreme one falls to it
    frequency = np.ones(11)
    monetary = np.r_[np.arange(10.0, 101.0, 10.0), 1e6]
    cap = gamma_gamma.spend_cap(frequency, monetary, quantile=0.9)
    assert cap == 100.0 and gamma_gamma.capped(monetary, cap).max() == 100.0


def test_calibration_on_a_later_cut_off_is_monotone_and_close():
    # given a generated shop, when the booster is fitted and calibrated (sigmoid and isotonic), then the probability never
    # falls as the booster's raw score rises, and the calibration error on the latest cut-off is small
    lines = generated_lines(n_customers=600)
    end = lines["placed_at"].max().floor("D")
    cutoffs = [end - pd.Timedelta(days=90 + 30 * i) for i in range(4)][::-1]
    train = training_frame(lines, cutoffs, window_days=60)
    for method in ("sigmoid", "isotonic"):
        model = fit_churn(train, ChurnConfig(window_days=60, calibration=method, min_samples_leaf=20))
        x = train[model.features].to_numpy(dtype="float64")
        raw = model.booster.calibrated_classifiers_[0].estimator.decision_function(x)
        p = model.predict_proba(train)
        order = np.argsort(raw, kind="stable")
        assert np.all(np.diff(p[order]) >= -1e-12)
        latest = train["cutoff"] == train["cutoff"].max()
        assert expected_calibration_error(train.loc[latest, "churned"], p[latest.to_numpy()]) < 0.08


def test_lift_deciles_and_the_paired_bootstrap():
    # given a perfect and a random score, when compared, then the perfect one's first decile lifts the most and its ROC AUC
    # gain's interval lies above 0
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    perfect, noise = y + rng.random(400) * 0.1, rng.random(400)
    deciles = lift_deciles(y, perfect)
    assert len(deciles) == 10 and deciles[0]["lift"] > 1.8 and deciles[-1]["captured"] == 1.0
    gain = paired_bootstrap(y, perfect, noise, roc_auc_score, n_boot=100)
    assert gain["low"] > 0.3 and gain["difference"] > gain["low"]


def test_value_interval_brackets_the_value_and_the_reason_names_its_figures():
    # given a generated shop's summary, when 8 bootstrap refits give an interval, then it is ordered and the reason says how
    # the value was reached (or that past spend is served)
    summary = bgnbd.rfm_summary(generated_lines(n_customers=300), snapshot=pd.Timestamp("2012-07-01", tz="UTC"))
    draws = bootstrap_draws(summary, draws=8, seed=1)
    interval = value_interval(draws, summary, unit_days=7.0)
    assert len(draws) == 8 and (interval["low"] <= interval["high"]).all() and (interval["low"] >= 0).all()
    value = pd.Series([100.0, np.nan], index=[1, 2])
    reasons = value_reasons(value, pd.Series([2.0, np.nan], index=[1, 2]), served="bgnbd_gamma_gamma")
    assert reasons[1].startswith("about 2.0 purchase days in 12 months x 50 net per purchase day") and reasons[2] == ""
    assert "net spend of the last 12 months" in value_reasons(value, value, served="past_spend")[1]


def test_labelled_frames_carry_every_signal_and_training_drops_the_columns_that_never_vary():
    # given a shop without reviews or support contacts, when trained, then those columns are in the frame but not in the model
    lines = generated_lines(n_customers=300)
    end = lines["placed_at"].max().floor("D")
    frame_ = labelled_frame(lines, cutoff=end - pd.Timedelta(days=60), window_days=60)
    assert set(SIGNAL_FEATURES) <= set(frame_.columns)
    cutoffs = [end - pd.Timedelta(days=90 + 30 * i) for i in range(3)][::-1]
    model = fit_churn(training_frame(lines, cutoffs, window_days=60), ChurnConfig(window_days=60, min_samples_leaf=20))
    assert "cadence_hazard" in model.features and "support_contacts_recent" not in model.features
