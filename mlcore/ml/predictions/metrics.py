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
