"""Figures of the predictions area: held-out metrics on real data and timings on generated data.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/predictions.py [--sizes 100000,1000000] [--skip-real]
- Online Retail (the issue's protocol): churn models trained at cut-offs up to 2011-06-11,
  evaluated at 2011-09-09 with a 91-day window; CLV ranking vs the actual held-out spend.
- CDNOW: BG/NBD and Gamma-Gamma parameters and the weeks 40-78 forecast.
- Generated shops: seconds to train and to score (features, churn, reasons, BG/NBD, CLV),
  and to fit BG/NBD + Gamma-Gamma.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.datasets import customer_countries, load_online_retail  # noqa: E402
from mlcore.ml.features import build_customer_features  # noqa: E402
from mlcore.ml.predictions import bgnbd, gamma_gamma  # noqa: E402
from mlcore.ml.predictions.cdnow import load_sample  # noqa: E402
from mlcore.ml.predictions.churn import (  # noqa: E402
    ChurnConfig,
    add_derived,
    fit_churn,
    labelled_frame,
    plan_cutoffs,
    training_frame,
)
from mlcore.ml.predictions.metrics import classification_metrics, country_groups, group_table  # noqa: E402
from mlcore.ml.synthetic import SyntheticConfig, cached_order_lines  # noqa: E402

DATA = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data"))
CACHE = ROOT / "bench" / ".cache"
FIT_CUTOFF = pd.Timestamp("2011-06-11", tz="UTC")
EVAL_CUTOFF = pd.Timestamp("2011-09-09", tz="UTC")
WINDOW = 91


def show(title: str, row: dict) -> None:
    print(f"{title:<44}" + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))


def retail_churn(lines: pd.DataFrame) -> None:
    config = ChurnConfig(window_days=WINDOW)
    cutoffs = sorted(FIT_CUTOFF - pd.Timedelta(days=i * config.cutoff_step_days) for i in range(config.n_train_cutoffs))
    model = fit_churn(training_frame(lines, cutoffs, window_days=WINDOW), config)
    test = labelled_frame(lines, cutoff=EVAL_CUTOFF, window_days=WINDOW)
    keys = ["roc_auc", "pr_auc", "brier", "top_decile_lift"]
    p, base = model.predict_proba(test), model.predict_baseline(test)
    print(f"\n## Online Retail churn: train cut-offs {[f'{c:%Y-%m-%d}' for c in cutoffs]}, test {EVAL_CUTOFF:%Y-%m-%d} + {WINDOW} days")
    print(f"customers {len(test)}, churn rate {test['churned'].mean():.3f}")
    show("calibrated gradient boosting", {k: classification_metrics(test["churned"], p)[k] for k in keys})
    show("logistic regression on log R/F/M", {k: classification_metrics(test["churned"], base)[k] for k in keys})
    groups = country_groups(customer_countries(lines).reindex(test.index).fillna("Unknown"), min_customers=50)
    print("per country group (boosting | baseline ROC AUC):")
    for row, brow in zip(group_table(test["churned"], p, groups), group_table(test["churned"], base, groups), strict=True):
        print(f"  {row['group']:<16} n {row['n']:>5}  churn {row['churn_rate']:.3f}  auc {row['roc_auc']:.4f} | {brow['roc_auc']:.4f}"
              f"  pr {row['pr_auc']:.4f}  brier {row['brier']:.4f}  lift {row['top_decile_lift']:.2f}")
    reasons = model.reasons(test.drop(columns=["churned", "cutoff"]))
    print("example reasons:", *reasons.sort_values("probability")["reason"].iloc[[-1, len(reasons) // 2, 0]], sep="\n  ")


def retail_clv(lines: pd.DataFrame) -> None:
    summary = bgnbd.rfm_summary(lines, snapshot=EVAL_CUTOFF)
    bg = bgnbd.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    gg = gamma_gamma.fit_gamma_gamma(summary["frequency"], summary["monetary"])
    months = WINDOW / (365.25 / 12)
    horizon = bgnbd.expected_purchases(bg, WINDOW / 7.0, summary["frequency"], summary["recency"], summary["T"])
    predicted = horizon * gamma_gamma.expected_spend(gg, summary["frequency"], summary["monetary"])
    window = lines[(lines["placed_at"] >= EVAL_CUTOFF) & (lines["placed_at"] < EVAL_CUTOFF + pd.Timedelta(days=WINDOW))]
    actual = window.groupby("customer_id")["amount"].sum().reindex(summary.index, fill_value=0.0).clip(lower=0)
    past = build_customer_features(lines, snapshot=EVAL_CUTOFF)["monetary"].reindex(summary.index).fillna(0)
    print(f"\n## Online Retail CLV ({len(summary)} customers), fitted before {EVAL_CUTOFF:%Y-%m-%d}, held-out {WINDOW} days ({months:.2f} months)")
    print(f"BG/NBD {bg}\nGamma-Gamma {gg}; spend-frequency correlation {gamma_gamma.spend_frequency_correlation(summary['frequency'], summary['monetary']):.3f}")
    for name, score in [("BG/NBD x Gamma-Gamma", predicted), ("baseline: past net spend", past.to_numpy())]:
        top = np.argsort(-np.asarray(score), kind="stable")[: len(score) // 10]
        show(name, {"spearman": float(spearmanr(score, actual).statistic), "top_decile_capture": float(actual.iloc[top].sum() / actual.sum())})
    show("purchases: predicted vs actual (sum)", {"predicted": float(horizon.sum()), "actual": int(window[window["quantity"] > 0].groupby("customer_id")["placed_at"].apply(lambda s: s.dt.floor("D").nunique()).reindex(summary.index, fill_value=0).sum())})


def cdnow() -> None:
    sample = load_sample(DATA / "cdnow" / "cdnow_customers_summary.csv", DATA / "cdnow" / "CDNOW_master.txt")
    bg = bgnbd.fit_bgnbd(sample["frequency"], sample["recency"], sample["T"])
    gg = gamma_gamma.fit_gamma_gamma(sample["frequency"], sample["monetary"])
    predicted = bgnbd.expected_purchases(bg, 39.0, sample["frequency"], sample["recency"], sample["T"])
    print(f"\n## CDNOW 1/10 sample ({len(sample)} customers)\nBG/NBD {bg}  (published 0.243, 4.414, 0.793, 2.426)")
    print(f"Gamma-Gamma {gg}  (published 6.25, 3.74, 15.44)")
    print(f"weeks 40-78 repeat purchases: predicted {predicted.sum():.0f}, actual {sample['holdout_purchases'].sum()}")
    by = pd.DataFrame({"x": sample["frequency"].clip(upper=7), "predicted": predicted, "actual": sample["holdout_purchases"]}).groupby("x").mean()
    print("mean per customer by calibration frequency (7 = 7+):\n" + by.round(3).to_string())


def timed(label: str, fn):
    start = time.perf_counter()
    out = fn()
    print(f"  {label:<40} {time.perf_counter() - start:8.1f} s")
    return out


def generated(n: int) -> None:
    lines = timed(f"generate/load {n} customers", lambda: cached_order_lines(CACHE, SyntheticConfig(n_customers=n)))
    print(f"generated shop: {n} customers, {len(lines)} lines")
    config = ChurnConfig()
    end = lines["placed_at"].max().floor("D") + pd.Timedelta(days=1)
    cutoffs, _ = plan_cutoffs(end, config)
    train = timed("churn training sets (4 cut-offs)", lambda: training_frame(lines, cutoffs, window_days=config.window_days))
    model = timed(f"churn fit ({min(len(train), config.max_train_rows)} rows)", lambda: fit_churn(train, config))
    summary = timed("BG/NBD summary", lambda: bgnbd.rfm_summary(lines, snapshot=end))
    bg = timed("BG/NBD fit", lambda: bgnbd.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"]))
    gg = timed("Gamma-Gamma fit", lambda: gamma_gamma.fit_gamma_gamma(summary["frequency"], summary["monetary"]))
    start = time.perf_counter()
    features = timed("score: features at today", lambda: add_derived(build_customer_features(lines, snapshot=end)))
    timed("score: churn + reasons", lambda: model.reasons(features))
    timed("score: P(alive), E[purchases] 30/90/365", lambda: [bgnbd.expected_purchases(bg, d / 7, summary["frequency"], summary["recency"], summary["T"]) for d in (30, 90, 365)])
    timed("score: 12-month CLV", lambda: gamma_gamma.customer_lifetime_value(bg, gg, summary["frequency"], summary["recency"], summary["T"], summary["monetary"]))
    print(f"  {'score total (without the database write)':<40} {time.perf_counter() - start:8.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared with other jobs), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    if not args.skip_real:
        retail = DATA / "online-retail" / "online_retail.csv.gz"
        if retail.exists():
            lines = load_online_retail(retail)
            retail_churn(lines)
            retail_clv(lines)
        else:
            print(f"skipped Online Retail: {retail} is absent")
        if (DATA / "cdnow").exists():
            cdnow()
    for n in [int(v) for v in args.sizes.split(",") if v]:
        print(f"\n## generated shop, {n} customers")
        generated(n)


if __name__ == "__main__":
    main()
