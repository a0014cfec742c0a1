"""Choosing the served sentiment model and saying how sure the choice is.

`model_select` fits every candidate on one part of the training reviews and keeps the best by
macro-F1 on a validation fold cut from the training reviews (never the held-out test reviews);
`paired_bootstrap_gain` gives the 95% interval of one model's gain over another on the same
held-out reviews (resampling reviews, both models scored on each resample).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.ml.feedback.baselines import sentiment_metrics
from mlcore.ml.feedback.datasets import split_holdout
from mlcore.ml.feedback.labels import binary_targets

Factory = Callable[[], object]  # a fresh unfitted model with fit / predict_proba
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Selection:
    name: str
    validation: dict[str, dict]  # candidate -> metrics on the validation fold (with seconds)
    n_fit: int
    n_validation: int


def model_select(candidates: dict[str, Factory], train: pd.DataFrame, *, validation_size: float = 0.2,
                 seed: int = 43, progress: Progress | None = None) -> Selection:
    """Best candidate by validation macro-F1 (accuracy breaks ties, then the order given)."""
    if not candidates:
        raise ValueError("model selection needs at least one candidate")
    fit, validation = split_holdout(train, test_size=validation_size, seed=seed)
    targets, results = binary_targets(validation["label"]), {}
    for name, factory in candidates.items():
        started = time.perf_counter()
        model = factory().fit(fit["text"].tolist(), binary_targets(fit["label"]))
        results[name] = sentiment_metrics(targets, model.predict_proba(validation["text"].tolist()))
        results[name]["seconds"] = round(time.perf_counter() - started, 1)
        if progress:
            progress(f"{name}: validation macro-F1 {results[name]['macro_f1']} ({results[name]['seconds']} s, {len(fit)} fitting reviews)")
    order = list(candidates)
    best = max(order, key=lambda n: (results[n]["macro_f1"], results[n]["accuracy"], -order.index(n)))
    return Selection(name=best, validation=results, n_fit=len(fit), n_validation=len(validation))


def _metric(name: str, targets: np.ndarray, predicted: np.ndarray) -> float:
    """Accuracy or macro-F1 (both classes) from the confusion counts; fast enough to bootstrap."""
    tp = float(np.sum((predicted == 1) & (targets == 1)))
    tn = float(np.sum((predicted == 0) & (targets == 0)))
    fp, fn = float(np.sum(predicted == 1)) - tp, float(np.sum(predicted == 0)) - tn
    if name == "accuracy":
        return (tp + tn) / max(1.0, len(targets))
    f1_pos = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    f1_neg = 2 * tn / (2 * tn + fn + fp) if tn + fn + fp else 0.0
    return (f1_pos + f1_neg) / 2


def macro_f1_at(targets: np.ndarray, p_positive: np.ndarray, threshold: float) -> float:
    """Macro-F1 of calling P >= threshold positive."""
    return _metric("macro_f1", np.asarray(targets), (np.asarray(p_positive) >= threshold).astype(int))


def paired_bootstrap_gain(targets: np.ndarray, p_model: np.ndarray, p_base: np.ndarray, *, metric: str = "macro_f1",
                          n_resamples: int = 1000, seed: int = 0) -> dict[str, float]:
    """Gain of the model over the base in `metric` (macro_f1 or accuracy) with its paired
    bootstrap 95% interval: both are scored on the same resampled reviews each time."""
    targets = np.asarray(targets)
    model, base = (np.asarray(p_model) >= 0.5).astype(int), (np.asarray(p_base) >= 0.5).astype(int)
    rng = np.random.default_rng(seed)
    gains = np.empty(n_resamples)
    for i in range(n_resamples):
        idx = rng.integers(0, len(targets), len(targets))
        gains[i] = _metric(metric, targets[idx], model[idx]) - _metric(metric, targets[idx], base[idx])
    low, high = np.percentile(gains, [2.5, 97.5])
    gain = _metric(metric, targets, model) - _metric(metric, targets, base)
    return {"gain": round(gain, 4), "low": round(float(low), 4), "high": round(float(high), 4)}
