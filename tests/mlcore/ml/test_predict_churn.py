"""Churn training sets, model, reasons, metrics and drift on small seeded generated data."""
import numpy as np
import pandas as pd
import pytest

from mlcore.ml.predictions.churn import (
    ChurnConfig,
    churn_labels,
    fit_churn,
    labelled_frame,
    plan_cutoffs,
    training_frame,
)
from mlcore.ml.predictions.drift import population_stability_index
from mlcore.ml.predictions.metrics import classification_metrics, top_decile_lift
from mlcore.ml.predictions.reasons import reasons_frame
from mlcore.ml.predictions.tree_paths import tree_contributions
from mlcore.ml.synthetic import SyntheticConfig, generate_order_lines

CONFIG = ChurnConfig(window_days=60, n_train_cutoffs=3, cutoff_step_days=30, min_samples_leaf=20, max_iter=60)


@pytest.fixture(scope="module")
def lines():
    return generate_order_lines(SyntheticConfig(n_customers=1500, n_products=50, horizon_days=540, seed=11))


@pytest.fixture(scope="module")
def trained(lines):
    cutoffs, validation = plan_cutoffs(lines["placed_at"].max(), CONFIG)
    train = training_frame(lines, cutoffs, window_days=CONFIG.window_days)
    return fit_churn(train, CONFIG), labelled_frame(lines, cutoff=validation, window_days=CONFIG.window_days)


def test_cutoffs_keep_every_label_window_before_validation():
    # given an as-of date, when cut-offs are planned, then each training label window ends by the validation cut-off
    cutoffs, validation = plan_cutoffs("2011-12-09", CONFIG)
    assert validation == pd.Timestamp("2011-10-06", tz="UTC")  # 2011-12-09 - 60 days = 10-10, floored to the 7-day grid
    assert all(c + pd.Timedelta(days=CONFIG.window_days) <= validation for c in cutoffs) and cutoffs == sorted(cutoffs)


def test_a_young_shop_gets_its_cutoffs_closer_together_and_none_before_its_first_order():
    # given Online Retail's first 200,000 lines (orders 2010-12-01 to 2011-05-22, window 70), when cut-offs are planned with the data's start,
    # then all four fall after the first order on the grid (30 days apart they reached back to September 2010: one usable, training failed)
    config = ChurnConfig(window_days=70)
    start, end = pd.Timestamp("2010-12-01 08:26", tz="UTC"), pd.Timestamp("2011-05-22 13:29", tz="UTC")
    assert [c for c in plan_cutoffs(end, config)[0] if c > start] == [pd.Timestamp("2010-12-30", tz="UTC")]
    cutoffs, validation = plan_cutoffs(end, config, data_start=start)
    assert cutoffs == [pd.Timestamp(d, tz="UTC") for d in ("2010-12-09", "2010-12-16", "2010-12-23", "2010-12-30")]
    assert validation == pd.Timestamp("2011-03-10", tz="UTC") and all(c == c.floor("7D") for c in cutoffs)
    # and a shop with history enough keeps the configured 30 days between cut-offs
    assert plan_cutoffs("2011-12-09", CONFIG, data_start="2010-12-01") == plan_cutoffs("2011-12-09", CONFIG)


def test_cutoffs_stay_on_a_weekly_grid_so_the_nights_of_a_week_share_their_snapshots():
    # given seven consecutive nights, when cut-offs are planned, then they are grid dates and change at most once
    plans = [plan_cutoffs(pd.Timestamp("2011-12-01", tz="UTC") + pd.Timedelta(days=d), CONFIG) for d in range(7)]
    dates = {c for cutoffs, validation in plans for c in [*cutoffs, validation]}
    assert all(d == d.floor("7D") for d in dates)
    assert len({tuple(cutoffs) + (validation,) for cutoffs, validation in plans}) <= 2
    assert ChurnConfig(grid_days=1, window_days=60).grid_days == 1 and plan_cutoffs("2011-12-09", ChurnConfig(window_days=60, grid_days=1))[1] == pd.Timestamp("2011-10-10", tz="UTC")


def test_features_and_labels_never_use_data_after_their_window(lines):
    # given lines changed after the label window, when the frame is built, then features and labels are unchanged
    cutoff = pd.Timestamp("2010-10-01", tz="UTC")
    later = lines["placed_at"] >= cutoff + pd.Timedelta(days=CONFIG.window_days)
    altered = lines.copy()
    altered.loc[later, "customer_id"] = altered.loc[later, "customer_id"].sample(frac=1, random_state=0).to_numpy()
    altered.loc[later, "amount"] *= 7
    before = labelled_frame(lines, cutoff=cutoff, window_days=CONFIG.window_days)
    after = labelled_frame(altered, cutoff=cutoff, window_days=CONFIG.window_days)
    pd.testing.assert_frame_equal(before, after)


def test_labels_come_from_the_window_only():
    # given orders before, inside and after the window, then only the one inside counts as retained
    t = pd.Timestamp("2011-01-01", tz="UTC")
    lines = pd.DataFrame({"customer_id": [1, 2, 3], "quantity": [1, 1, 1], "placed_at": [t - pd.Timedelta(days=1), t + pd.Timedelta(days=5), t + pd.Timedelta(days=95)]})
    labels = churn_labels(lines, pd.Index([1, 2, 3]), cutoff=t, window_days=90)
    assert labels.tolist() == [1, 0, 1]


def test_label_window_beyond_the_data_is_refused(lines):
    # given a cut-off whose window ends after the last order, when labelled, then it is refused
    with pytest.raises(ValueError, match="ends after the data"):
        labelled_frame(lines, cutoff=lines["placed_at"].max() - pd.Timedelta(days=5), window_days=60)


def test_same_data_and_seed_give_the_same_model(lines, trained):
    # given the same data and seed, when trained twice, then the predictions are identical
    model, validation = trained
    cutoffs, _ = plan_cutoffs(lines["placed_at"].max(), CONFIG)
    again = fit_churn(training_frame(lines, cutoffs, window_days=CONFIG.window_days), CONFIG)
    assert np.array_equal(model.predict_proba(validation), again.predict_proba(validation))


def test_model_beats_chance_and_is_calibrated_on_later_window(trained):
    # given a model trained on earlier cut-offs, when scored on the later window, then AUC > 0.6 and probabilities are in [0, 1]
    model, validation = trained
    p = model.predict_proba(validation)
    metrics = classification_metrics(validation["churned"], p)
    assert metrics["roc_auc"] > 0.6 and 0 <= p.min() and p.max() <= 1 and metrics["brier"] < 0.25


def test_reasons_name_the_features_that_moved_the_score():
    # given a model whose risk depends only on recency, when explained, then the high-risk reason cites days since the last order
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"recency_days": rng.uniform(1, 300, 400), "interpurchase_mean_days": rng.uniform(10, 60, 400),
                             "frequency": rng.integers(1, 10, 400).astype(float), "monetary": rng.uniform(10, 500, 400)})
    def predict(frame):
        return 1 / (1 + np.exp(-(frame["recency_days"].to_numpy() - 150) / 30))
    medians = features.median().to_dict()
    out = reasons_frame(predict, features, medians)
    riskiest = out["probability"].idxmax()
    assert out.loc[riskiest, "groups"].split(",")[0] == "recency"
    assert out.loc[riskiest, "reason"].startswith(f"churn risk {out.loc[riskiest, 'probability']:.2f}: ")
    assert "days since the last order where this customer usually orders every" in out.loc[riskiest, "reason"]


def test_trend_reason_states_the_spend_change():
    # given spend that halved and a model driven by the trend, then the reason says spend is down 50%
    features = pd.DataFrame({"spend_last_90": [50.0, 100.0], "spend_prev_90": [100.0, 100.0], "activity_trend": [-0.33, 0.0], "frequency": [3.0, 3.0]})
    def predict(frame):
        return 0.5 - frame["activity_trend"].to_numpy()
    out = reasons_frame(predict, features, features.median().to_dict(), top=1)
    assert out.loc[0, "reason"] == "churn risk 0.83: spend down 50% on the previous quarter"


def test_lift_and_psi_behave():
    # given a perfect ranking and a shifted population, then lift is 1/rate and PSI passes 0.2 only for the shift
    y = np.array([1] * 10 + [0] * 90)
    assert top_decile_lift(y, y.astype(float)) == pytest.approx(10.0)
    rng = np.random.default_rng(3)
    base = pd.Series(rng.normal(0, 1, 5000))
    assert population_stability_index(base, pd.Series(rng.normal(0, 1, 5000))) < 0.05
    assert population_stability_index(base, pd.Series(rng.normal(1.5, 1, 5000))) > 0.2


def test_tree_path_contributions_add_up_to_the_raw_score(trained):
    # given the fitted booster and rows with missing values, when decision paths are credited, then bias + credits = raw score
    model, validation = trained
    booster = model.booster.calibrated_classifiers_[0].estimator
    x = validation[model.features].to_numpy(dtype="float64")
    contributions, bias = tree_contributions(booster, x)
    assert np.isnan(x).any()
    assert np.allclose(contributions.sum(axis=1) + bias, booster.decision_function(x), atol=1e-9)


def test_model_reasons_cite_the_largest_path_contributions(trained):
    # given the trained model, when it explains the riskiest customer, then the cited groups are its two largest contributions
    model, validation = trained
    features = validation.drop(columns=["churned", "cutoff"])
    reasons = model.reasons(features)
    riskiest = reasons["probability"].idxmax()
    contributions = model.group_contributions(features).loc[riskiest].sort_values(ascending=False)
    assert reasons.loc[riskiest, "groups"] == ",".join(contributions.index[:2])
    assert np.allclose(reasons["probability"], model.predict_proba(features))


def test_single_order_reason_does_not_repeat_itself():
    # given a one-order customer whose risk comes from recency and frequency, then the reason cites recency and another group
    features = pd.DataFrame({"recency_days": [200.0, 10.0], "interpurchase_mean_days": [np.nan, 20.0], "frequency": [1.0, 6.0], "monetary": [30.0, 300.0]})
    def predict(frame):
        return np.clip(frame["recency_days"].to_numpy() / 250 + 0.1 / frame["frequency"].to_numpy() + 30 / (frame["monetary"].to_numpy() + 100), 0, 1)
    out = reasons_frame(predict, features, features.median().to_dict())
    assert out.loc[0, "groups"] == "recency,value"
    assert "since the only order" in out.loc[0, "reason"] and "one order so far" not in out.loc[0, "reason"]
