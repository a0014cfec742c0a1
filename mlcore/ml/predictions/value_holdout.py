"""Lifetime value against its baseline on a held-out window: BG/NBD x Gamma-Gamma vs past net spend.

Both are fitted / read before `cutoff` and compared on every customer's actual net spend in the
`window_days` after it: Spearman rank correlation (the gate's metric: the value is used to rank
customers) and the share of that spend captured by each ranking's top decile. On Online Retail the
past-spend ranking won (docs/models.md), so the registry serves whichever wins here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from mlcore.ml.predictions import bgnbd, gamma_gamma


def net_spend(lines: pd.DataFrame, start, end) -> pd.Series:
    """customer id -> net spend (sales minus returns, fees left out) in [start, end)."""
    window = lines.loc[lines["customer_id"].notna() & (lines["placed_at"] >= start) & (lines["placed_at"] < end)]
    if "product_kind" in window.columns:
        window = window.loc[window["product_kind"].ne("fee")]
    return window.groupby(window["customer_id"].astype("int64"))["amount"].sum()


def ranking_figures(score: np.ndarray, actual: np.ndarray) -> dict:
    top = np.argsort(-score, kind="stable")[: max(len(score) // 10, 1)]
    total = actual.sum()
    return {"spearman": round(float(spearmanr(score, actual).statistic), 4),
            "top_decile_capture": round(float(actual[top].sum() / total), 4) if total > 0 else None}


def value_holdout(lines: pd.DataFrame, *, cutoff: pd.Timestamp, window_days: int, unit_days: float) -> dict:
    """Figures of the model and of past spend on the window after `cutoff`; `winner` names the better ranking."""
    summary = bgnbd.rfm_summary(lines, snapshot=cutoff, unit_days=unit_days)
    purchase = bgnbd.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = gamma_gamma.fit_gamma_gamma(summary["frequency"], summary["monetary"])
    expected = bgnbd.expected_purchases(purchase, window_days / unit_days, summary["frequency"], summary["recency"], summary["T"])
    predicted = np.asarray(expected * gamma_gamma.expected_spend(spend, summary["frequency"], summary["monetary"]), dtype="float64")
    actual = net_spend(lines, cutoff, cutoff + pd.Timedelta(days=window_days)).reindex(summary.index, fill_value=0.0).clip(lower=0).to_numpy()
    past = net_spend(lines, lines["placed_at"].min(), cutoff).reindex(summary.index, fill_value=0.0).to_numpy(dtype="float64")
    model, baseline = ranking_figures(predicted, actual), ranking_figures(past, actual)
    better = baseline["spearman"] > model["spearman"] + 1e-12
    return {"cutoff": cutoff.isoformat(), "window_days": int(window_days), "customers": int(len(summary)),
            "bgnbd_gamma_gamma": model, "past_spend": baseline, "winner": "past_spend" if better else "bgnbd_gamma_gamma"}
