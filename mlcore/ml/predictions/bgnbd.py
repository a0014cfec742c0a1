"""The BG/NBD repeat-purchase model (Fader, Hardie & Lee 2005), fitted with scipy.

Inputs are per-customer summaries in a time unit of the caller's choice (weeks by default):
frequency x (repeat purchase days), recency t_x (first to last purchase) and age T (first
purchase to the end of the calibration period). Identical (x, t_x, T) rows are collapsed into
weights before fitting, so a million customers cost as much as their distinct summaries.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

from mlcore.ml.sales import net as net_lines


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict:
        return asdict(self)


def rfm_summary(lines: pd.DataFrame, *, snapshot, unit_days: float = 7.0) -> pd.DataFrame:
    """frequency, recency, T (in units of unit_days) and mean repeat-day net spend per customer.

    Lines before the snapshot only, net of cancellations and returns (`features.net_lines`): a
    customer's lines of one day are summed, and a day is a purchase day only when that sum is
    positive, so an order cancelled the same day (Online Retail's 80,995-unit order of customer
    16446) is no purchase and adds no spend. Returns filed on other days scale the customer's
    purchase-day values down by the share of spend they undo. monetary is the mean net spend of
    the repeat days (0 without).
    """
    snap = pd.Timestamp(snapshot)
    net = net_lines(lines.loc[lines["customer_id"].notna() & (lines["placed_at"] < snap)])
    if "product_kind" in net.columns:
        net = net.loc[net["product_kind"].ne("fee")]
    frame = net.assign(day=net["placed_at"].dt.floor("D"), sold=net["quantity"] > 0)
    all_days = frame.groupby(["customer_id", "day"], sort=True).agg(amount=("amount", "sum"), sold=("sold", "any")).reset_index()
    bought = all_days["sold"] & (all_days["amount"] > 0)
    days = all_days.loc[bought].reset_index(drop=True)
    kept = days.groupby("customer_id")["amount"].sum()
    total = all_days.groupby("customer_id")["amount"].sum().reindex(kept.index)
    days["amount"] *= days["customer_id"].map((total / kept).clip(0.0, 1.0))
    first = days.groupby("customer_id")["day"].transform("min")
    days["repeat_value"] = days["amount"].where(days["day"] > first)
    per = days.groupby("customer_id")
    last_day = snap.floor("D") if snap == snap.floor("D") else snap.floor("D") + pd.Timedelta(days=1)
    unit = pd.Timedelta(days=unit_days)
    out = pd.DataFrame({
        "frequency": per.size() - 1,
        "recency": (per["day"].max() - per["day"].min()) / unit,
        "T": (last_day - per["day"].min()) / unit,
        "monetary": per["repeat_value"].mean().fillna(0.0),
    })
    out.index = out.index.astype("int64")
    return out


def collapse(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t_x, T) rows and their counts."""
    stacked = np.column_stack([x, t_x, T]).astype("float64")
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return unique[:, 0], unique[:, 1], unique[:, 2], counts.astype("float64")


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood (equation 6 of the paper, in a numerically safe form)."""
    r, alpha, a, b = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    stay = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return head + np.logaddexp(stay, drop)


def fit_bgnbd(x, t_x, T, *, penalizer: float = 0.0, start: BgNbdParams | None = None) -> BgNbdParams:
    """Maximum-likelihood parameters (L-BFGS-B on log parameters, weighted distinct rows)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    if len(x) == 0:
        raise ValueError("fit_bgnbd: no customers to fit")
    if np.any(t_x > T + 1e-9) or np.any(x < 0):
        raise ValueError("fit_bgnbd: need frequency >= 0 and recency <= T for every customer")
    ux, ut, uT, w = collapse(x, t_x, T)
    total = w.sum()

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        value = -np.dot(w, log_likelihood(params, ux, ut, uT)) / total
        return float(value + penalizer * np.sum(params**2))

    x0 = np.log([start.r, start.alpha, start.a, start.b]) if start else np.log([0.5, max(float(np.mean(T)), 1.0), 1.0, 1.0])
    result = minimize(objective, x0, method="L-BFGS-B", bounds=[(-12, 12)] * 4, options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-8})
    if not np.isfinite(result.fun):
        raise RuntimeError(f"BG/NBD fit did not converge: {result.message}")
    r, alpha, a, b = np.exp(result.x)
    return BgNbdParams(r=float(r), alpha=float(alpha), a=float(a), b=float(b))


def _dropout_odds(p: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for x > 0, else 0 (computed in logs)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.log(p.a) - np.log(np.maximum(p.b + x - 1, 1e-300)) + (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + t_x))
    return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)


def probability_alive(p: BgNbdParams, x, t_x, T) -> np.ndarray:
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    return 1.0 / (1.0 + _dropout_odds(p, x, t_x, T))


def expected_purchases(p: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next t units (equation 10)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    z = t / (p.alpha + T + t)
    hyp = hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z)
    head = (p.a + p.b + x - 1) / (p.a - 1)
    body = 1.0 - np.exp((p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + T + t))) * hyp
    value = head * body / (1.0 + _dropout_odds(p, x, t_x, T))
    return np.clip(np.nan_to_num(value, nan=0.0, posinf=0.0), 0.0, None)


def expected_purchases_new(p: BgNbdParams, t) -> np.ndarray:
    """E[X(t)]: expected repeat purchases of a new customer in t units (equation 7)."""
    t = np.asarray(t, dtype="float64")
    hyp = hyp2f1(p.r, p.b, p.a + p.b - 1, t / (p.alpha + t))
    return (p.a + p.b - 1) / (p.a - 1) * (1.0 - (p.alpha / (p.alpha + t)) ** p.r * hyp)
