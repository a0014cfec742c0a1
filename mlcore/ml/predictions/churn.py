"""Churn: point-in-time training sets at earlier cut-offs, a calibrated gradient-boosted model and
a logistic-regression baseline on recency, frequency and monetary value.

A customer (with a sale before the cut-off) has churned when they place no sale order in the
`window_days` after it. Features are `mlcore.ml.features.customer_features` at the cut-off (lines
before it only; the platform reads them from the stored snapshot of that date); labels only from
[cut-off, cut-off + window). The split is by
time, never random: the training cut-offs' label windows all end on or before the validation
cut-off, and the latest training cut-off is the calibration slice.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlcore.ml.churn_signals import SIGNAL_FEATURES
from mlcore.ml.features import BASE_FEATURES, FeatureConfig, as_utc, customer_features
from mlcore.ml.predictions.reasons import group_projection, reasons_frame
from mlcore.ml.predictions.tree_paths import tree_contributions
from mlcore.ml.sales import sales as sale_lines

DERIVED_FEATURES = ["overdue_ratio"]
RFM_TREND_FEATURES = BASE_FEATURES + DERIVED_FEATURES  # the booster's features before issue 18 (bench compares)
CHURN_FEATURES = RFM_TREND_FEATURES + SIGNAL_FEATURES


@dataclass(frozen=True)
class ChurnConfig:
    window_days: int = 90
    n_train_cutoffs: int = 4
    cutoff_step_days: int = 30
    grid_days: int = 7  # cut-offs fall on this grid of days (1: exactly window and step days apart)
    seed: int = 42
    max_iter: int = 80
    learning_rate: float = 0.1
    max_leaf_nodes: int = 6
    min_samples_leaf: int = 200
    l2_regularization: float = 1.0
    calibration: str = "sigmoid"
    recent_days: int = 90  # reviews and support contacts count over this many days before the cut-off
    max_train_rows: int = 400_000
    min_customers_per_cutoff: int = 50

    def as_dict(self) -> dict:
        return asdict(self)


def plan_cutoffs(as_of, config: ChurnConfig, *, data_start=None) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """(training cut-offs oldest first, validation cut-off) so that every label window ends by as_of.

    Cut-offs are UTC midnights on a 7-day grid (`grid_days`): the nights of one week train on the
    same dates, so their stored feature snapshots are built once and read again. Given the first
    order's time, a shop too young for `cutoff_step_days` between cut-offs gets them closer (whole
    grid steps), so that every cut-off has history before it; none falls before `data_start`.
    """
    grid = f"{config.grid_days}D"
    validation = (as_utc(as_of).floor("D") - pd.Timedelta(days=config.window_days)).floor(grid)
    last_train = validation - pd.Timedelta(days=config.window_days)
    step = config.cutoff_step_days
    if data_start is not None and config.n_train_cutoffs > 1:
        room = (last_train - as_utc(data_start)).days // (config.n_train_cutoffs - 1)
        step = max(config.grid_days, min(step, room // config.grid_days * config.grid_days))
    train = [(last_train - pd.Timedelta(days=i * step)).floor(grid) for i in range(config.n_train_cutoffs)]
    start = as_utc(data_start) if data_start is not None else None
    return sorted({c for c in train if start is None or c > start}), validation


def churn_labels(lines: pd.DataFrame, customers: pd.Index, *, cutoff, window_days: int) -> pd.Series:
    """1 where a customer places no sale order in [cutoff, cutoff + window_days), else 0."""
    start = as_utc(cutoff)
    end = start + pd.Timedelta(days=window_days)
    window = sale_lines(lines.loc[(lines["placed_at"] >= start) & (lines["placed_at"] < end)])
    if "product_kind" in window.columns:
        window = window.loc[window["product_kind"].ne("fee")]
    active = set(window["customer_id"].dropna().astype("int64").unique())
    return pd.Series(np.where(customers.isin(list(active)), 0, 1), index=customers, name="churned")


def churn_features(
    lines: pd.DataFrame, *, snapshot, window_days: int, reviews: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None, recent_days: int = 90,
) -> pd.DataFrame:
    """Every feature at the snapshot, built as the stored snapshot is (`customer_features`) for this churn window."""
    config = FeatureConfig(window_days=window_days, recent_days=recent_days)
    return customer_features(lines, snapshot=snapshot, reviews=reviews, events=events, config=config)


def model_features(model, lines: pd.DataFrame, *, snapshot, reviews=None, events=None) -> pd.DataFrame:
    """A stored model's input at the snapshot, with the window it was trained with."""
    config = getattr(model, "config", {}) or {}
    return churn_features(
        lines, snapshot=snapshot, window_days=int(config.get("window_days", ChurnConfig.window_days)), reviews=reviews, events=events,
        recent_days=int(config.get("recent_days", ChurnConfig.recent_days)),
    )


def labelled_frame(
    lines: pd.DataFrame, *, cutoff, window_days: int, reviews: pd.DataFrame | None = None, events: pd.DataFrame | None = None,
    recent_days: int = 90, features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Features at the cut-off plus the churn label; refuses a label window the data does not cover.

    `features`: the cut-off's feature frame when the caller has it (the stored snapshot); else built from `lines`.
    """
    end = as_utc(cutoff) + pd.Timedelta(days=window_days)
    if end > lines["placed_at"].max() + pd.Timedelta(days=1):
        raise ValueError(f"label window {as_utc(cutoff):%Y-%m-%d} + {window_days} days ends after the data ({lines['placed_at'].max():%Y-%m-%d})")
    if features is None:
        features = churn_features(lines, snapshot=cutoff, window_days=window_days, reviews=reviews, events=events, recent_days=recent_days)
    frame = features.join(churn_labels(lines, features.index, cutoff=cutoff, window_days=window_days))
    return frame.assign(cutoff=as_utc(cutoff))


def training_frame(lines: pd.DataFrame, cutoffs: list, *, window_days: int, min_customers: int = 1, features_at: dict | None = None, **signals) -> pd.DataFrame:
    """Labelled frames at every cut-off (`signals`: reviews, events, recent_days of labelled_frame).

    `features_at`: cut-off (UTC timestamp) -> its feature frame, where the caller read them from the snapshots.
    """
    features_at = features_at or {}
    frames = [labelled_frame(lines, cutoff=c, window_days=window_days, features=features_at.get(as_utc(c)), **signals) for c in cutoffs]
    frames = [f for f in frames if len(f) >= min_customers]
    if not frames:
        raise ValueError("no cut-off has enough customers to train on")
    return pd.concat(frames).reset_index()


def rfm_matrix(features: pd.DataFrame) -> np.ndarray:
    return np.column_stack([
        np.log1p(features["recency_days"].clip(lower=0)),
        np.log1p(features["frequency"].clip(lower=0)),
        np.log1p(features["monetary"].clip(lower=0)),
    ])


@dataclass
class ChurnModel:
    """The calibrated booster, the RFM baseline and the training population's medians."""

    features: list[str]
    booster: CalibratedClassifierCV
    baseline: object
    medians: dict
    config: dict = field(default_factory=dict)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self.booster.predict_proba(features[self.features].to_numpy(dtype="float64"))[:, 1]

    def group_contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Decision-path contributions of the booster per reason group (log-odds, larger = more risk)."""
        calibrated = self.booster.calibrated_classifiers_[0]
        groups, projection = group_projection(self.features)
        raw, _ = tree_contributions(calibrated.estimator, features[self.features].to_numpy(dtype="float64"), projection)
        slope = getattr(calibrated.calibrators[0], "a_", -1.0)  # sigmoid: p = 1 / (1 + exp(a f + b))
        return pd.DataFrame(raw * (1.0 if slope <= 0 else -1.0), index=features.index, columns=groups)

    def reasons(self, features: pd.DataFrame) -> pd.DataFrame:
        return reasons_frame(self.predict_proba, features, self.medians, contributions=self.group_contributions)

    def predict_baseline(self, features: pd.DataFrame) -> np.ndarray:
        return self.baseline.predict_proba(rfm_matrix(features))[:, 1]


@dataclass
class BaselineChurnModel:
    """The logistic R/F/M baseline served on its own, where it beat the booster on validation.

    Same interface as ChurnModel; reasons come from median substitution of the reason groups.
    """

    features: list[str]
    baseline: object
    medians: dict
    config: dict = field(default_factory=dict)
    served_model: str = "logistic_baseline"

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self.baseline.predict_proba(rfm_matrix(features))[:, 1]

    def predict_baseline(self, features: pd.DataFrame) -> np.ndarray:
        return self.predict_proba(features)

    def reasons(self, features: pd.DataFrame) -> pd.DataFrame:
        return reasons_frame(self.predict_proba, features, self.medians)


def baseline_model(model: ChurnModel) -> BaselineChurnModel:
    return BaselineChurnModel(features=list(model.features), baseline=model.baseline, medians=dict(model.medians), config=dict(model.config))


def baseline_wins(metrics: dict) -> bool:
    """True where the baseline's validation ROC AUC is above the booster's (the gate's metric)."""
    model, base = metrics.get("roc_auc"), (metrics.get("baseline") or {}).get("roc_auc")
    if base is None or not np.isfinite(base):
        return False
    return model is None or not np.isfinite(model) or base > model + 1e-12


def subsample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=seed).sort_index()


def varying(train: pd.DataFrame, names: list[str]) -> list[str]:
    """The features that take at least two values in training (a shop without reviews or support
    contacts trains without those columns; the model records the ones it used)."""
    return [name for name in names if train[name].nunique(dropna=True) >= 2]


def fit_churn(train: pd.DataFrame, config: ChurnConfig = ChurnConfig(), *, features: list[str] | None = None) -> ChurnModel:
    """Fit on all but the latest training cut-off, calibrate on the latest one (time held out).

    `features` defaults to CHURN_FEATURES (those that vary in training are kept).
    """
    train = subsample(train, config.max_train_rows, config.seed).reset_index(drop=True)
    features = varying(train, CHURN_FEATURES if features is None else features)
    latest = train["cutoff"].max()
    fit_idx, calib_idx = np.flatnonzero(train["cutoff"] < latest), np.flatnonzero(train["cutoff"] == latest)
    if len(fit_idx) == 0 or train["churned"].iloc[fit_idx].nunique() < 2:
        raise ValueError("training needs at least two cut-offs and both churned and retained customers")
    booster = HistGradientBoostingClassifier(
        max_iter=config.max_iter, learning_rate=config.learning_rate, max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf, l2_regularization=config.l2_regularization,
        early_stopping=False, random_state=config.seed,
    )
    calibrated = CalibratedClassifierCV(booster, method=config.calibration, cv=[(fit_idx, calib_idx)])
    x, y = train[features].to_numpy(dtype="float64"), train["churned"].to_numpy()
    calibrated.fit(x, y)
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=config.seed))
    baseline.fit(rfm_matrix(train), y)
    medians = {name: float(train[name].median()) for name in features}
    return ChurnModel(features=features, booster=calibrated, baseline=baseline, medians=medians, config=config.as_dict())


def feature_importances(model: ChurnModel, frame: pd.DataFrame, *, seed: int = 0, max_rows: int = 20_000) -> list[dict]:
    """Permutation importance (drop in ROC AUC) on the validation slice, largest first."""
    sample = subsample(frame, max_rows, seed)
    if sample["churned"].nunique() < 2:
        return []
    x = sample[model.features].to_numpy(dtype="float64")
    result = permutation_importance(model.booster, x, sample["churned"], scoring="roc_auc", n_repeats=3, random_state=seed)
    rows = [{"feature": name, "importance": round(float(v), 5)} for name, v in zip(model.features, result.importances_mean, strict=True)]
    return sorted(rows, key=lambda row: -row["importance"])
