"""Uplift targeting and the wave bandit on the campaign simulator (printed as Markdown).

    OMP_NUM_THREADS=1 .venv/bin/python bench/uplift_sim.py [--reps 200]

Online Retail (the bundled data/online_retail.csv.gz, else ../shared/data/online-retail):
customers' real purchases after each send date are the baseline outcome; who is mailed and the
mail's effect are simulated (mlcore.ml.campaign_sim: the known, feature-dependent effect).
Training: one campaign sent 2011-06-01, and four monthly ones 2011-04-01 to 07-01; evaluation:
three campaigns sent 2011-09-01, 10-01 and 11-01, pooled (30-day windows, 50% holdout, other
seeds; every training window ends before the first evaluation send). Compared on the
evaluation campaigns' simulated outcomes: Qini coefficient (95% bootstrap interval over customers,
the same resamples for every score) of the T- and X-learners, targeting by churn risk (the
platform's churn model trained on history before the second send), by 12-month value (BG/NBD +
Gamma-Gamma, the platform's value model), random, and the oracle (the known true uplift);
and the correlation of each score with the known effect.
The bandit part: two variants with known click rates, five waves, Thompson sampling.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.campaign_sim import SimCampaign, qini_table, simulate_bandit, simulate_campaign  # noqa: E402
from mlcore.ml.datasets import load_online_retail  # noqa: E402
from mlcore.ml.features import BASE_FEATURES, add_derived, as_utc, lines_before  # noqa: E402
from mlcore.ml.predictions import bgnbd, gamma_gamma  # noqa: E402
from mlcore.ml.predictions.churn import ChurnConfig, fit_churn, plan_cutoffs, training_frame  # noqa: E402
from mlcore.ml.uplift import UpliftConfig, fit_uplift_frame  # noqa: E402

TRAIN = SimCampaign("2011-06-01", seed=1)
EVALUATE = [SimCampaign(day, seed=2 + i) for i, day in enumerate(("2011-09-01", "2011-10-01", "2011-11-01"))]  # pooled for the Qini
REFERENCE = "T-learner, 4 past campaigns"
HISTORY = [SimCampaign(day, seed=10 + i) for i, day in enumerate(("2011-04-01", "2011-05-01", "2011-06-01", "2011-07-01"))]  # windows end before 2011-09-01


def data_path() -> Path:
    for candidate in (ROOT / "data" / "online_retail.csv.gz", ROOT.parent / "shared" / "data" / "online-retail" / "online_retail.csv.gz"):
        if candidate.exists():
            return candidate
    raise SystemExit("Online Retail not found (data/online_retail.csv.gz)")


def churn_scores(lines: pd.DataFrame, evaluate: pd.DataFrame, send_date: str) -> np.ndarray:
    """The platform's churn model (60-day window) trained only on history before the send."""
    send = as_utc(send_date)
    config = ChurnConfig(window_days=60, n_train_cutoffs=3, cutoff_step_days=30, min_samples_leaf=50)
    history = lines_before(lines, send)
    cutoffs, _ = plan_cutoffs(send, config)
    model = fit_churn(training_frame(history, cutoffs, window_days=config.window_days), config)
    return model.predict_proba(add_derived(evaluate[BASE_FEATURES]))


def value_scores(lines: pd.DataFrame, evaluate: pd.DataFrame, send_date: str) -> np.ndarray:
    """12-month value from BG/NBD + Gamma-Gamma fitted at the send date."""
    summary = bgnbd.rfm_summary(lines, snapshot=as_utc(send_date)).reindex(evaluate.index)
    x, t_x, T, m = (summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary"))
    bg = bgnbd.fit_bgnbd(x, t_x, T, penalizer=0.001)
    gg = gamma_gamma.fit_gamma_gamma(x, m)
    return gamma_gamma.customer_lifetime_value(bg, gg, x, t_x, T, m)


def uplift_scores(train: pd.DataFrame, history: pd.DataFrame, evaluate: pd.DataFrame) -> dict[str, np.ndarray]:
    scores = {}
    for label, config in (("T-learner (gradient boosting)", UpliftConfig(learner="t")), ("X-learner (gradient boosting)", UpliftConfig(learner="x")),
                          ("T-learner (logistic)", UpliftConfig(learner="t", base="lr"))):
        scores[label] = fit_uplift_frame(train, features=BASE_FEATURES, config=config).predict(evaluate)
    for label, config in (("T-learner, 4 past campaigns", UpliftConfig(learner="t")), ("X-learner, 4 past campaigns", UpliftConfig(learner="x"))):
        scores[label] = fit_uplift_frame(history, features=BASE_FEATURES, config=config).predict(evaluate)
    return scores


def describe(frame: pd.DataFrame, label: str) -> str:
    t, y = frame["treated"] == 1, frame["converted"]
    return (f"| {label} | {frame['send_date'].iloc[0]:%Y-%m-%d} | {len(frame):,} | {int(t.sum()):,} / {int((~t).sum()):,} | "
            f"{frame.loc[~t, 'converted'].mean():.3f} | {y[t].mean():.3f} | {frame['true_uplift'].mean():+.4f} | {(frame['tau'] < 0).mean():.1%} |")


def uplift_part(lines: pd.DataFrame, reps: int) -> dict:
    started = time.monotonic()
    train = simulate_campaign(lines, TRAIN)
    evaluations = [simulate_campaign(lines, sim) for sim in EVALUATE]
    evaluate = pd.concat(evaluations).reset_index()
    print("## Simulated campaigns\n")
    print("| Campaign | Send | Customers | Mailed / holdout | Holdout conversion (real) | Mailed conversion (simulated) | Mean true uplift | Put off (tau < 0) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(describe(train, "training"))
    for frame in evaluations:
        print(describe(frame, "evaluation"))
    history = pd.concat([simulate_campaign(lines, sim) for sim in HISTORY])
    print(f"| 4 past campaigns (2011-04-01 to 07-01, monthly) | - | {len(history):,} rows | - | {history.loc[history['treated'] == 0, 'converted'].mean():.3f} | "
          f"{history.loc[history['treated'] == 1, 'converted'].mean():.3f} | {history['true_uplift'].mean():+.4f} | {(history['tau'] < 0).mean():.1%} |")
    scores = uplift_scores(train, history, evaluate)
    rng = np.random.default_rng(11)
    churn = np.concatenate([churn_scores(lines, f, sim.send_date) for f, sim in zip(evaluations, EVALUATE, strict=True)])
    value = np.concatenate([value_scores(lines, f, sim.send_date) for f, sim in zip(evaluations, EVALUATE, strict=True)])
    scores |= {"Churn risk (churn model)": churn, "12-month value (BG/NBD + Gamma-Gamma)": value,
               "Random": rng.random(len(evaluate)), "Oracle (known true uplift)": evaluate["true_uplift"].to_numpy()}
    t, y = evaluate["treated"].to_numpy(), evaluate["converted"].to_numpy()
    table = qini_table(scores, t, y, reps=reps, seed=3, reference=REFERENCE)
    truth, planted = evaluate["true_uplift"], pd.Series(evaluate["tau"].to_numpy(), index=evaluate.index)
    top = int(0.3 * len(evaluate))
    print(f"\n## Qini on the three evaluation campaigns pooled ({len(evaluate):,} customer-sends, {reps} bootstrap resamples)\n")
    print(f"| Targeting by | Qini coefficient [95% CI] | {REFERENCE} minus this [95% CI] | Corr. with the planted effect tau(x) | Corr. with the true uplift | Mean true uplift of the top 30% |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in table:
        s = pd.Series(scores[row["score"]], index=evaluate.index)  # evaluate has a plain 0..n-1 index here
        diff = row.get("reference_minus_this")
        top_mean = truth.loc[s.sort_values(ascending=False, kind="stable").index[:top]].mean()
        row |= {"corr_tau": float(s.corr(planted)), "corr_true_uplift": float(s.corr(truth)), "top30_true_uplift": float(top_mean)}
        print(f"| {row['score']} | {row['qini']:.4f} [{row['low']:.4f}, {row['high']:.4f}] | "
              f"{f'{diff[1]:+.4f} [{diff[0]:+.4f}, {diff[2]:+.4f}]' if diff else '-'} | {row['corr_tau']:.2f} | {row['corr_true_uplift']:.2f} | {top_mean:+.4f} |")
    print(f"\n(uplift part: {time.monotonic() - started:.0f} s)")
    return {"table": table, "train_rows": len(train), "evaluate_rows": len(evaluate)}


def bandit_scenario(rates: dict[str, float], options: dict) -> dict:
    waves = simulate_bandit(rates, seed=1, **options)
    print(f"\n## Bandit: two variants, known click rates A {rates['A']:.1%} and B {rates['B']:.1%}, {options['recipients']:,} recipients, 5 waves (first 20%), minimum 500 per variant\n")
    print("| Wave | Customers | A | B | Share to B | Clicks A / B | P(B best) before the wave | Why |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for w in waves:
        print(f"| {w['wave']} | {w['size']:,} | {w['counts']['A']:,} | {w['counts']['B']:,} | {w['counts']['B'] / w['size']:.1%} | "
              f"{w['clicks']['A']} / {w['clicks']['B']} | {w['prob_best_before']['B']:.3f} | {w['reason']} |")
    runs = [simulate_bandit(rates, seed=s, **options) for s in range(200)]
    even = [simulate_bandit(rates, seed=s, adaptive=False, **options) for s in range(200)]
    clicks = np.array([sum(sum(w["clicks"].values()) for w in run) for run in runs])
    clicks_even = np.array([sum(sum(w["clicks"].values()) for w in run) for run in even])
    last_b = np.array([run[-1]["counts"]["B"] / run[-1]["size"] for run in runs])
    print("\nOver 200 seeds (each run its own simulation):\n")
    print(f"- share of the last wave sent to B: median {np.median(last_b):.1%}, 5th percentile {np.percentile(last_b, 5):.1%}; last wave mostly A in {np.mean(last_b < 0.5):.1%} of runs")
    print(f"- clicks per campaign: Thompson {clicks.mean():.0f} (sd {clicks.std():.0f}), even split {clicks_even.mean():.0f} (sd {clicks_even.std():.0f}); "
          f"all-B would expect {options['recipients'] * rates['B']:.0f}")
    return {"rates": rates, "waves": waves, "last_wave_share_b_median": float(np.median(last_b)), "clicks_thompson": float(clicks.mean()), "clicks_even": float(clicks_even.mean())}


def bandit_part() -> list[dict]:
    options = {"recipients": 20_000, "wave_count": 5, "first_share": 0.2, "min_sample": 500}
    return [bandit_scenario(rates, options) for rates in ({"A": 0.030, "B": 0.045}, {"A": 0.030, "B": 0.033})]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"Machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}; load before: {os.getloadavg()[0]:.2f}")
    started = time.monotonic()
    lines = load_online_retail(data_path())
    result = {"uplift": uplift_part(lines, args.reps), "bandit": bandit_part()}
    print(f"\nTotal {time.monotonic() - started:.0f} s; load after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
