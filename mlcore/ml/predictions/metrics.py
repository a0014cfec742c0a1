"""Metrics of a churn model: ROC AUC, PR AUC, Brier, top-decile lift, curves and a per-group table."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve


def top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    """Churn rate among the 10% highest scores over the overall churn rate."""
    y = np.asarray(y, dtype="float64")
    if len(y) == 0 or y.mean() == 0:
        return float("nan")
    top = np.argsort(-np.asarray(p), kind="stable")[: max(1, int(np.ceil(0.1 * len(y))))]
    return float(y[top].mean() / y.mean())


def classification_metrics(y, p) -> dict:
    y = np.asarray(y, dtype="int64")
    p = np.asarray(p, dtype="float64")
    both = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "churn_rate": float(y.mean()) if len(y) else float("nan"),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "top_decile_lift": top_decile_lift(y, p),
    }


def roc_points(y, p, *, max_points: int = 60) -> dict:
    fpr, tpr, _ = roc_curve(y, p)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(max_points, len(fpr))).round().astype(int))
    return {"fpr": [round(float(v), 4) for v in fpr[keep]], "tpr": [round(float(v), 4) for v in tpr[keep]]}


def calibration_bins(y, p, *, bins: int = 10) -> dict:
    """Mean predicted vs observed churn in equal-width probability bins (empty bins left out)."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype="float64"), "p": np.asarray(p, dtype="float64")})
    frame["bin"] = np.minimum((frame["p"] * bins).astype(int), bins - 1)
    grouped = frame.groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"), n=("y", "size"))
    return {key: [round(float(v), 4) for v in grouped[key]] for key in ("predicted", "observed")} | {"n": grouped["n"].astype(int).tolist()}


def country_groups(countries: pd.Series, *, min_customers: int = 50) -> pd.Series:
    """Countries with at least min_customers keep their name; the rest form "Other"."""
    counts = countries.value_counts()
    large = set(counts[counts >= min_customers].index)
    return countries.where(countries.isin(large), "Other").fillna("Other")


def group_table(y, p, groups: pd.Series) -> list[dict]:
    """The metrics per group (the fairness view), largest group first."""
    frame = pd.DataFrame({"y": np.asarray(y), "p": np.asarray(p), "group": np.asarray(groups)})
    rows = [{"group": name} | classification_metrics(part["y"], part["p"]) for name, part in frame.groupby("group")]
    return sorted(rows, key=lambda row: -row["n"])


def expected_calibration_error(y, p, *, bins: int = 10) -> float:
    """Mean |observed - predicted| over equal-width probability bins, weighted by their customers."""
    table = calibration_bins(y, p, bins=bins)
    n = np.asarray(table["n"], dtype="float64")
    if n.sum() == 0:
        return float("nan")
    gap = np.abs(np.asarray(table["observed"]) - np.asarray(table["predicted"]))
    return float((gap * n).sum() / n.sum())


def lift_deciles(y, p) -> list[dict]:
    """Per score decile (1 = highest risk): customers, churn rate, lift over the base rate, share of churners captured so far."""
    y = np.asarray(y, dtype="float64")
    order = np.argsort(-np.asarray(p, dtype="float64"), kind="stable")
    base, total = (y.mean(), y.sum()) if len(y) else (np.nan, 0.0)
    rows, seen = [], 0.0
    for decile, part in enumerate(np.array_split(order, 10), start=1):
        churners = float(y[part].sum())
        seen += churners
        rate = churners / len(part) if len(part) else float("nan")
        rows.append({"decile": decile, "n": int(len(part)), "churn_rate": round(rate, 4),
                     "lift": round(rate / base, 3) if base else None, "captured": round(seen / total, 4) if total else None})
    return rows


def paired_bootstrap(y, first, second, metric, *, n_boot: int = 500, seed: int = 0) -> dict:
    """metric(y, first) - metric(y, second) with a 95% percentile interval from resampling customers."""
    y, first, second = (np.asarray(a) for a in (y, first, second))
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) < 2 and metric is roc_auc_score:
            continue
        diffs.append(metric(y[idx], first[idx]) - metric(y[idx], second[idx]))
    low, high = np.percentile(diffs, [2.5, 97.5]) if diffs else (np.nan, np.nan)
    return {"difference": float(metric(y, first) - metric(y, second)), "low": float(low), "high": float(high)}
