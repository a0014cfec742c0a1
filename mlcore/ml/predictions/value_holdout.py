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
from mlcore.ml.sales import net as net_lines


def net_spend(lines: pd.DataFrame, start, end) -> pd.Series:
    """customer id -> net spend (sales minus returns and cancellations, fees left out) in [start, end)."""
    window = net_lines(lines).loc[lines["customer_id"].notna() & (lines["placed_at"] >= start) & (lines["placed_at"] < end)]
    if "product_kind" in window.columns:
        window = window.loc[window["product_kind"].ne("fee")]
    return window.groupby(window["customer_id"].astype("int64"))["amount"].sum()


def top_decile_capture(score: np.ndarray, actual: np.ndarray) -> float:
    top = np.argsort(-np.asarray(score), kind="stable")[: max(len(score) // 10, 1)]
    total = actual.sum()
    return float(actual[top].sum() / total) if total > 0 else float("nan")


def spearman(score, actual) -> float:
    return float(spearmanr(score, actual).statistic)


def ranking_figures(score: np.ndarray, actual: np.ndarray) -> dict:
    capture = top_decile_capture(score, actual)
    return {"spearman": round(spearman(score, actual), 4), "top_decile_capture": round(capture, 4) if np.isfinite(capture) else None}


def paired_difference(first: np.ndarray, second: np.ndarray, actual: np.ndarray, *, n_boot: int = 300, seed: int = 0) -> dict:
    """first minus second in Spearman and top-decile capture, with 95% intervals from resampling customers."""
    rng = np.random.default_rng(seed)
    stats = {"spearman": spearman, "top_decile_capture": top_decile_capture}
    out = {}
    draws = [rng.integers(0, len(actual), len(actual)) for _ in range(n_boot)]
    for name, stat in stats.items():
        diffs = np.array([stat(first[i], actual[i]) - stat(second[i], actual[i]) for i in draws])
        low, high = np.nanpercentile(diffs, [2.5, 97.5])
        out[name] = {"difference": round(stat(first, actual) - stat(second, actual), 4), "low": round(float(low), 4), "high": round(float(high), 4)}
    return out


def model_value(lines: pd.DataFrame, *, cutoff: pd.Timestamp, window_days: int, unit_days: float, cap_quantile: float | None = 0.99) -> pd.Series:
    """BG/NBD x Gamma-Gamma expected net spend in the window after `cutoff`, fitted before it (repeat spend capped)."""
    summary = bgnbd.rfm_summary(lines, snapshot=cutoff, unit_days=unit_days)
    cap = None if cap_quantile is None else gamma_gamma.spend_cap(summary["frequency"], summary["monetary"], quantile=cap_quantile)
    monetary = gamma_gamma.capped(summary["monetary"], cap)
    purchase = bgnbd.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = gamma_gamma.fit_gamma_gamma(summary["frequency"], monetary)
    expected = bgnbd.expected_purchases(purchase, window_days / unit_days, summary["frequency"], summary["recency"], summary["T"])
    return pd.Series(np.asarray(expected * gamma_gamma.expected_spend(spend, summary["frequency"], monetary), dtype="float64"), index=summary.index)


def value_holdout(lines: pd.DataFrame, *, cutoff: pd.Timestamp, window_days: int, unit_days: float, cap_quantile: float | None = 0.99) -> dict:
    """Figures of the model and of past spend on the window after `cutoff`; `winner` names the better ranking.

    The model wins only where its Spearman correlation is higher; the paired bootstrap interval of
    the difference is recorded beside it (a gain whose interval straddles 0 is not a clear one).
    """
    predicted = model_value(lines, cutoff=cutoff, window_days=window_days, unit_days=unit_days, cap_quantile=cap_quantile)
    index = predicted.index
    actual = net_spend(lines, cutoff, cutoff + pd.Timedelta(days=window_days)).reindex(index, fill_value=0.0).clip(lower=0).to_numpy()
    past = net_spend(lines, lines["placed_at"].min(), cutoff).reindex(index, fill_value=0.0).to_numpy(dtype="float64")
    model, baseline = ranking_figures(predicted.to_numpy(), actual), ranking_figures(past, actual)
    better = baseline["spearman"] > model["spearman"] + 1e-12
    return {"cutoff": cutoff.isoformat(), "window_days": int(window_days), "customers": int(len(index)),
            "bgnbd_gamma_gamma": model, "past_spend": baseline, "model_minus_past_spend": paired_difference(predicted.to_numpy(), past, actual),
            "winner": "past_spend" if better else "bgnbd_gamma_gamma"}
