"""Bootstrap intervals of the 12-month value for small shops, and the value's reason in words.

`bootstrap_draws` refits BG/NBD and Gamma-Gamma on customers resampled with replacement (the
parameter uncertainty a few thousand customers leave); `value_interval` evaluates every draw's
value for each customer and keeps the 5th and 95th percentiles (a 90% interval).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mlcore.ml.predictions import bgnbd, gamma_gamma


def fit_pair(summary: pd.DataFrame, cap_quantile: float) -> dict:
    """BG/NBD and capped Gamma-Gamma parameters of one summary, as plain dicts (JSON-safe)."""
    cap = gamma_gamma.spend_cap(summary["frequency"], summary["monetary"], quantile=cap_quantile)
    purchase = bgnbd.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = gamma_gamma.fit_gamma_gamma(summary["frequency"], gamma_gamma.capped(summary["monetary"], cap))
    return {"bgnbd": purchase.as_dict(), "gamma_gamma": spend.as_dict(), "spend_cap": cap}


def bootstrap_draws(summary: pd.DataFrame, *, draws: int, seed: int = 0, cap_quantile: float = 0.99) -> list[dict]:
    """`draws` refits on customers resampled with replacement (draws that fail to fit are skipped)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(draws):
        sample = summary.iloc[rng.integers(0, len(summary), len(summary))]
        try:
            out.append(fit_pair(sample, cap_quantile))
        except (ValueError, RuntimeError):
            continue
    return out


def draw_value(draw: dict, summary: pd.DataFrame, *, unit_days: float, annual_discount_rate: float) -> np.ndarray:
    purchase, spend = bgnbd.BgNbdParams(**draw["bgnbd"]), gamma_gamma.GammaGammaParams(**draw["gamma_gamma"])
    monetary = gamma_gamma.capped(summary["monetary"], draw.get("spend_cap"))
    return gamma_gamma.customer_lifetime_value(
        purchase, spend, summary["frequency"], summary["recency"], summary["T"], monetary,
        annual_discount_rate=annual_discount_rate, unit_days=unit_days,
    )


def value_interval(draws: list[dict], summary: pd.DataFrame, *, unit_days: float, annual_discount_rate: float = 0.10) -> pd.DataFrame:
    """Per customer: the 5th and 95th percentile of the 12-month value over the draws (NaN without draws)."""
    if not draws:
        return pd.DataFrame({"low": np.nan, "high": np.nan}, index=summary.index)
    values = np.vstack([draw_value(d, summary, unit_days=unit_days, annual_discount_rate=annual_discount_rate) for d in draws])
    low, high = np.nanpercentile(values, [5, 95], axis=0)
    return pd.DataFrame({"low": low, "high": high}, index=summary.index)


def amount(values) -> pd.Series:
    return pd.Series(values).map(lambda v: f"{v:,.0f}")


def value_reasons(value: pd.Series, purchases_365: pd.Series, *, served: str) -> pd.Series:
    """The value's reason in the figures it came from.

    Model: "about 3.2 purchase days in 12 months x 385 net per purchase day"; past spend served:
    "net spend of the last 12 months, after returns and cancellations".
    """
    if served == "past_spend":
        text = "net spend of the last 12 months, after returns and cancellations (the served ranking)"
        return pd.Series(text, index=value.index).where(value.notna(), "")
    per = (value / purchases_365.where(purchases_365 > 0)).fillna(0.0)
    text = ("about " + purchases_365.fillna(0).map(lambda v: f"{v:.1f}") + " purchase days in 12 months x "
            + amount(per.to_numpy()).set_axis(value.index) + " net per purchase day (repeat spend capped, returns netted)")
    return text.where(value.notna(), "")
