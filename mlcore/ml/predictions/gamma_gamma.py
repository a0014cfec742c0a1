"""The Gamma-Gamma spend model (Fader & Hardie 2013) and the discounted 12-month lifetime value.

Fitted on repeat buyers only (frequency > 0, mean repeat spend > 0); identical
(frequency, mean spend) pairs are collapsed into weights. The model assumes spend is independent
of purchase frequency; `spend_frequency_correlation` reports how far the data is from that.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from mlcore.ml.predictions.bgnbd import BgNbdParams, expected_purchases


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict:
        return asdict(self)


def log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, g = params
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
        + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + m * x)
    )


def repeat_buyers(frequency, monetary) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype="float64")
    m = np.asarray(monetary, dtype="float64")
    keep = (x > 0) & (m > 0)
    return x[keep], m[keep]


def fit_gamma_gamma(frequency, monetary, *, penalizer: float = 0.0) -> GammaGammaParams:
    """Maximum-likelihood p, q, gamma on the repeat buyers (L-BFGS-B on log parameters)."""
    x, m = repeat_buyers(frequency, monetary)
    if len(x) < 3:
        raise ValueError("fit_gamma_gamma: needs at least 3 repeat buyers with positive spend")
    pairs, counts = np.unique(np.column_stack([x, m]), axis=0, return_counts=True)
    ux, um, w = pairs[:, 0], pairs[:, 1], counts.astype("float64")

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        return float(-np.dot(w, log_likelihood(params, ux, um)) / w.sum() + penalizer * np.sum(params**2))

    x0 = np.log([1.0, 1.0, max(float(np.median(m)), 1.0)])
    result = minimize(objective, x0, method="L-BFGS-B", bounds=[(-10, 10)] * 3, options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-10})
    if not np.isfinite(result.fun):
        raise RuntimeError(f"Gamma-Gamma fit did not converge: {result.message}")
    p, q, g = np.exp(result.x)
    return GammaGammaParams(p=float(p), q=float(q), gamma=float(g))


def expected_spend(params: GammaGammaParams, frequency, monetary) -> np.ndarray:
    """E[M | x, m_x]; customers without repeat spend get the population mean p*gamma/(q-1)."""
    x = np.asarray(frequency, dtype="float64")
    m = np.asarray(monetary, dtype="float64")
    p, q, g = params.p, params.q, params.gamma
    population = p * g / (q - 1) if q > 1 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = p * (g + x * m) / (p * x + q - 1)
    return np.where((x > 0) & (m > 0), conditional, population)


def spend_frequency_correlation(frequency, monetary) -> float:
    x, m = repeat_buyers(frequency, monetary)
    return float(np.corrcoef(x, m)[0, 1]) if len(x) > 2 else float("nan")


def customer_lifetime_value(
    bgnbd: BgNbdParams, gg: GammaGammaParams, frequency, recency, T, monetary,
    *, months: int = 12, annual_discount_rate: float = 0.10, unit_days: float = 7.0,
) -> np.ndarray:
    """Discounted value over `months` months: sum of each month's expected purchases x spend."""
    spend = expected_spend(gg, frequency, monetary)
    monthly_rate = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    month_units = 365.25 / 12.0 / unit_days
    value = np.zeros(len(np.atleast_1d(frequency)))
    previous = np.zeros_like(value)
    for month in range(1, months + 1):
        cumulative = expected_purchases(bgnbd, month * month_units, frequency, recency, T)
        value += (cumulative - previous) * spend / (1.0 + monthly_rate) ** month
        previous = cumulative
    return value


def spend_cap(frequency, monetary, *, quantile: float = 0.99) -> float:
    """The repeat buyers' mean spend at `quantile`: Gamma-Gamma reads spend capped there, so one
    extreme order (a wholesale lot) cannot dominate a customer's value or the fitted population."""
    _, m = repeat_buyers(frequency, monetary)
    return float(np.quantile(m, quantile)) if len(m) else float("inf")


def capped(monetary, cap: float | None) -> np.ndarray:
    m = np.asarray(monetary, dtype="float64")
    return m if cap is None else np.minimum(m, cap)
