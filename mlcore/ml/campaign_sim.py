"""A campaign simulator on real purchase histories, for uplift and bandit checks before a shop
has any treatment history of its own.

What is real and what is simulated:
- Real: the customers, their features at the send date (`mlcore.ml.features`, the same builder
  as the platform's snapshots) and their *baseline outcome*: whether they really bought again
  within `window_days` after the send date (Y0).
- Simulated: who is mailed (a seeded coin per customer, `holdout_share` kept out) and the mail's
  effect, a known function of the features (`true_effect`): lapsing regular customers are
  pulled back, one-off buyers barely move, very recent frequent buyers are put off. A treated
  customer who would not have bought buys with probability tau (tau > 0); one who would have
  bought is lost with probability -tau (tau < 0). Y = Y0 for the holdout, Y1 for the mailed.
- Known per customer: `true_uplift` = E[Y1 - Y0 | x, Y0] (tau * (1 - Y0) or tau * Y0), the
  effect the mail has on *this* customer given their real baseline; the models never see it.

The bandit simulator is fully synthetic: variants with fixed, known click rates.
Pure code (no Django): DataFrames and arrays in, frames and dicts out; explicit seeds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.ml.bandit import ArmCounts, plan_wave, wave_sizes
from mlcore.ml.features import as_utc, build_customer_features
from mlcore.ml.sales import sale_mask
from mlcore.ml.uplift import qini_coefficient


@dataclass(frozen=True)
class SimCampaign:
    send_date: str
    window_days: int = 30
    holdout_share: float = 0.5
    seed: int = 0
    max_recency_days: int = 365  # customers silent longer than a year are not mailed


def true_effect(features: pd.DataFrame) -> np.ndarray:
    """The planted effect of a mail on the purchase probability, by recency and frequency.

    +25 points for lapsing regulars (recency 45-180 days, 3+ orders), scaled down for fewer
    orders; +3 points for one-off buyers; -12 points for very recent frequent buyers (under 21
    days, 5+ orders: the mail annoys them); +2 points for everyone else.
    """
    r, f = features["recency_days"].to_numpy(), features["frequency"].to_numpy()
    tau = np.full(len(features), 0.02)
    lapsing = (r >= 45) & (r <= 180)
    tau = np.where(lapsing, 0.25 * np.clip(f / 3.0, 0.0, 1.0), tau)
    tau = np.where(f <= 1, 0.03, tau)
    tau = np.where((r < 21) & (f >= 5), -0.12, tau)
    return tau


def real_buyers(lines: pd.DataFrame, start: pd.Timestamp, days: int) -> set[int]:
    """Customers with a sale line in [start, start + days)."""
    end = start + pd.Timedelta(days=days)
    window = lines.loc[(lines["placed_at"] >= start) & (lines["placed_at"] < end) & sale_mask(lines)]
    return set(window["customer_id"].astype("int64").unique())


def simulate_campaign(lines: pd.DataFrame, sim: SimCampaign) -> pd.DataFrame:
    """One simulated send: features at the send date plus treated, y0, tau, true_uplift, converted."""
    send = as_utc(sim.send_date)
    if send + pd.Timedelta(days=sim.window_days) > lines["placed_at"].max():
        raise ValueError(f"the window after {sim.send_date} runs past the data")
    features = build_customer_features(lines, snapshot=send)
    features = features.loc[features["recency_days"] <= sim.max_recency_days].copy()
    rng = np.random.default_rng(sim.seed)
    n = len(features)
    y0 = features.index.isin(list(real_buyers(lines, send, sim.window_days))).astype(int)
    tau = true_effect(features)
    treated = (rng.random(n) >= sim.holdout_share).astype(int)
    coin = rng.random(n) < np.abs(tau)
    y1 = np.where(tau >= 0, y0 | coin, y0 & ~coin).astype(int)
    return features.assign(
        treated=treated, y0=y0, tau=tau, true_uplift=np.where(tau >= 0, tau * (1 - y0), tau * y0),
        converted=np.where(treated == 1, y1, y0), send_date=send,
    )


def qini_table(scores: dict[str, np.ndarray], t: np.ndarray, y: np.ndarray, *, reps: int = 200, seed: int = 0, reference: str | None = None) -> list[dict]:
    """Qini coefficient of each score with a 95% bootstrap interval (the same resamples for all),
    and, against `reference`, the paired difference with its interval."""
    rng = np.random.default_rng(seed)
    samples = [rng.integers(0, len(t), len(t)) for _ in range(reps)]
    boot = {name: np.array([qini_coefficient(s[i], t[i], y[i]) for i in samples]) for name, s in scores.items()}
    rows = []
    for name, s in scores.items():
        low, high = np.percentile(boot[name], [2.5, 97.5])
        row = {"score": name, "qini": qini_coefficient(s, t, y), "low": float(low), "high": float(high)}
        if reference and name != reference:
            diff = boot[reference] - boot[name]
            row["reference_minus_this"] = [float(v) for v in np.percentile(diff, [2.5, 50, 97.5])]
        rows.append(row)
    return rows


def simulate_bandit(rates: dict[str, float], *, recipients: int, wave_count: int, first_share: float, min_sample: int, seed: int, adaptive: bool = True) -> list[dict]:
    """A campaign in waves with known click rates: each wave's allocation and clicks."""
    rng = np.random.default_rng([seed, 7])
    names = list(rates)
    trials, clicks, out = dict.fromkeys(names, 0), dict.fromkeys(names, 0), []
    for wave, size in enumerate(wave_sizes(recipients, wave_count=wave_count, first_share=first_share), start=1):
        arms = [ArmCounts(n, trials[n], clicks[n]) for n in names]
        plan, _ = plan_wave(arms, size, wave=wave, seed=seed, min_sample=min_sample, adaptive=adaptive)
        got = {n: int(rng.binomial(plan.counts[n], rates[n])) for n in names}
        for n in names:
            trials[n] += plan.counts[n]
            clicks[n] += got[n]
        out.append({"wave": wave, "size": size, "counts": plan.counts, "clicks": got, "reason": plan.reason,
                    "prob_best_before": plan.prob_best})
    return out
