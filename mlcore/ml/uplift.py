"""Uplift models and their evaluation: who would a message change?

- `TLearner`: one outcome model on treated customers, one on the control (holdout) group; the
  uplift is the difference of their predicted conversion probabilities.
- `XLearner` (Kunzel et al. 2019): the T-learner's outcome models impute each customer's
  individual effect (treated: y - mu0(x); control: mu1(x) - y), two regressors learn those, and
  a propensity-weighted blend gives the uplift.
- `qini_curve` / `qini_coefficient`: rank customers by a score, and at each depth compare the
  treated conversions with the control's scaled to the treated count (Radcliffe 2007). The
  coefficient is the area between the curve and the straight line of random targeting, both
  as fractions of the population (x) and of the population (y), so 0 is random.

Pure code: arrays in, arrays out; explicit seeds.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@dataclass(frozen=True)
class UpliftConfig:
    learner: str = "t"  # "t" or "x"
    base: str = "gbm"  # "gbm" (histogram gradient boosting) or "lr" (logistic / linear regression)
    seed: int = 7
    max_iter: int = 100
    learning_rate: float = 0.05
    max_leaf_nodes: int = 6
    min_samples_leaf: int = 100  # campaign holdouts are small: large leaves keep the two models from fitting noise

    def as_dict(self) -> dict:
        return asdict(self)


def _classifier(config: UpliftConfig):
    if config.base == "lr":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    return HistGradientBoostingClassifier(
        max_iter=config.max_iter, learning_rate=config.learning_rate, max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf, l2_regularization=1.0, early_stopping=False, random_state=config.seed,
    )


def _regressor(config: UpliftConfig):
    if config.base == "lr":
        return make_pipeline(StandardScaler(), LinearRegression())
    return HistGradientBoostingRegressor(
        max_iter=config.max_iter, learning_rate=config.learning_rate, max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf, l2_regularization=1.0, early_stopping=False, random_state=config.seed,
    )


def _prob(model, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(x)[:, 1]


def _check(x: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
    for group, name in ((t == 1, "treated"), (t == 0, "control")):
        if group.sum() < 2 or len(np.unique(y[group])) < 2:
            raise ValueError(f"uplift training needs converted and unconverted customers in the {name} group")


def _arrays(x, t, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.asarray(x, dtype="float64"), np.asarray(t).astype(int), np.asarray(y).astype(int)


@dataclass
class _Learner:
    config: UpliftConfig = field(default_factory=UpliftConfig)
    features: list[str] = field(default_factory=list)


class TLearner(_Learner):
    def fit(self, x: np.ndarray, t: np.ndarray, y: np.ndarray) -> TLearner:
        x, t, y = _arrays(x, t, y)
        _check(x, t, y)
        self.treated_model = _classifier(self.config).fit(x[t == 1], y[t == 1])
        self.control_model = _classifier(self.config).fit(x[t == 0], y[t == 0])
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype="float64")
        return _prob(self.treated_model, x) - _prob(self.control_model, x)


class XLearner(_Learner):
    def fit(self, x: np.ndarray, t: np.ndarray, y: np.ndarray) -> XLearner:
        x, t, y = _arrays(x, t, y)
        stage1 = TLearner(self.config).fit(x, t, y)
        treated, control = t == 1, t == 0
        d1 = y[treated] - _prob(stage1.control_model, x[treated])
        d0 = _prob(stage1.treated_model, x[control]) - y[control]
        self.effect_treated = _regressor(self.config).fit(x[treated], d1)
        self.effect_control = _regressor(self.config).fit(x[control], d0)
        self.propensity = float(treated.mean())  # randomised sends: the share treated, same for everyone
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype="float64")
        g = self.propensity
        return g * self.effect_control.predict(x) + (1 - g) * self.effect_treated.predict(x)


def uplift_model(config: UpliftConfig = UpliftConfig(), features: list[str] | None = None):
    if config.learner not in ("t", "x"):
        raise ValueError(f"learner must be 't' or 'x', got {config.learner!r}")
    cls = TLearner if config.learner == "t" else XLearner
    return cls(config=config, features=list(features or []))


def qini_curve(score: np.ndarray, t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fraction targeted, Qini value as a fraction of the population) from 0 to everyone.

    Customers are taken highest score first (ties in the given order, a stable sort). At depth k:
    Q(k) = Y_t(k) - Y_c(k) * N_t(k) / N_c(k), the treated conversions beyond what the control
    group's rate predicts for as many treated customers (0 while no control is reached yet).
    """
    score, t, y = np.asarray(score, dtype="float64"), np.asarray(t).astype(int), np.asarray(y).astype("float64")
    order = np.argsort(-score, kind="stable")
    t, y = t[order], y[order]
    n_t, n_c = np.cumsum(t), np.cumsum(1 - t)
    y_t, y_c = np.cumsum(y * t), np.cumsum(y * (1 - t))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n_c > 0, y_t - y_c * n_t / np.maximum(n_c, 1), y_t)
    n = len(score)
    return np.concatenate([[0.0], np.arange(1, n + 1) / n]), np.concatenate([[0.0], q / n])


def qini_coefficient(score: np.ndarray, t: np.ndarray, y: np.ndarray) -> float:
    """Area between the Qini curve and random targeting's straight line (0 = random, higher = better)."""
    x, q = qini_curve(score, t, y)
    return float(np.trapezoid(q - x * q[-1], x))


def qini_points(score: np.ndarray, t: np.ndarray, y: np.ndarray, *, points: int = 21) -> list[dict]:
    """The curve at `points` evenly spaced depths (for a chart): fraction, qini, random line."""
    x, q = qini_curve(score, t, y)
    idx = np.unique(np.round(np.linspace(0, len(x) - 1, points)).astype(int))
    return [{"fraction": float(x[i]), "qini": float(q[i]), "random": float(x[i] * q[-1])} for i in idx]


def bootstrap_qini(score: np.ndarray, t: np.ndarray, y: np.ndarray, *, reps: int = 200, seed: int = 0) -> tuple[float, float, float]:
    """(estimate, 2.5%, 97.5%) of the Qini coefficient over customer-level bootstrap resamples."""
    rng = np.random.default_rng(seed)
    score, t, y = np.asarray(score), np.asarray(t), np.asarray(y)
    values = [qini_coefficient(score[i], t[i], y[i]) for i in (rng.integers(0, len(score), len(score)) for _ in range(reps))]
    low, high = np.percentile(values, [2.5, 97.5])
    return qini_coefficient(score, t, y), float(low), float(high)


@dataclass
class UpliftFrameModel:
    """A fitted learner over named feature columns; missing values take the training medians."""

    learner: object
    features: list[str]
    medians: dict

    def matrix(self, frame) -> np.ndarray:
        return frame.reindex(columns=self.features).astype("float64").fillna(self.medians).fillna(0.0).to_numpy()

    def predict(self, frame) -> np.ndarray:
        return self.learner.predict(self.matrix(frame))


def fit_uplift_frame(frame, *, features: list[str], config: UpliftConfig = UpliftConfig(), treated: str = "treated", outcome: str = "converted") -> UpliftFrameModel:
    """Fit on a frame of feature columns plus 0/1 `treated` and `outcome` columns."""
    medians = {name: float(v) for name, v in frame[features].astype("float64").median().items() if np.isfinite(v)}
    model = UpliftFrameModel(learner=None, features=list(features), medians=medians)
    model.learner = uplift_model(config, features).fit(model.matrix(frame), frame[treated].to_numpy(), frame[outcome].to_numpy())
    return model
