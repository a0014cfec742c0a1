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
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlcore.ml.datasets import customer_countries, load_online_retail  # noqa: E402
from mlcore.ml.features import add_derived, build_customer_features  # noqa: E402
from mlcore.ml.predictions import bgnbd, gamma_gamma  # noqa: E402
from mlcore.ml.predictions.cdnow import load_sample  # noqa: E402
from mlcore.ml.predictions.churn import (  # noqa: E402
    CHURN_FEATURES,
    RFM_TREND_FEATURES,
    ChurnConfig,
    feature_importances,
    fit_churn,
    labelled_frame,
    model_features,
    plan_cutoffs,
    training_frame,
)
from mlcore.ml.predictions.metrics import (  # noqa: E402
    calibration_bins,
    classification_metrics,
    country_groups,
    expected_calibration_error,
    group_table,
    lift_deciles,
    paired_bootstrap,
)
from mlcore.ml.predictions.value_holdout import model_value, net_spend, paired_difference, ranking_figures  # noqa: E402
from mlcore.ml.predictions.value_intervals import bootstrap_draws, value_interval  # noqa: E402
from mlcore.ml.synthetic import SyntheticConfig, cached_order_lines  # noqa: E402

DATA = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data"))
CACHE = ROOT / "bench" / ".cache"
FIT_CUTOFF = pd.Timestamp("2011-06-11", tz="UTC")
EVAL_CUTOFF = pd.Timestamp("2011-09-09", tz="UTC")
WINDOW = 91


def show(title: str, row: dict) -> None:
    print(f"{title:<44}" + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))


def probability_row(y, score, *, probability: bool) -> dict:
    ranks = score if probability else rankdata(score) / len(score)  # a ranking only: its rank in [0, 1]
    m = classification_metrics(y, ranks)
    row = {k: m[k] for k in ("roc_auc", "pr_auc", "top_decile_lift")}
    row |= {"brier": m["brier"], "ece": expected_calibration_error(y, score)} if probability else {"brier": "-", "ece": "-"}
    return row


def churn_scores(lines: pd.DataFrame, config: ChurnConfig, cutoffs: list, test: pd.DataFrame) -> dict:
    """Every baseline and model of the churn table, scored on the test frame (name -> (score, is a probability))."""
    train = training_frame(lines, cutoffs, window_days=WINDOW)
    summary = bgnbd.rfm_summary(lines, snapshot=EVAL_CUTOFF).reindex(test.index)
    bg = bgnbd.fit_bgnbd(summary["frequency"].dropna(), summary["recency"].dropna(), summary["T"].dropna())
    alive = bgnbd.probability_alive(bg, summary["frequency"].fillna(0), summary["recency"].fillna(0), summary["T"].fillna(1))
    old = fit_churn(train, config, features=RFM_TREND_FEATURES)
    new = fit_churn(train, config)
    iso = fit_churn(train, replace(config, calibration="isotonic"))
    return {
        "baseline: recency only (days since last order)": (test["recency_days"].to_numpy(), False),
        "baseline: past net spend (lower = riskier)": (-test["monetary"].to_numpy(), False),
        "baseline: BG/NBD 1 - P(alive)": (1.0 - np.asarray(alive), True),
        "baseline: logistic regression on log R/F/M": (new.predict_baseline(test), True),
        "boosting, R/F/M + trend features (before)": (old.predict_proba(test), True),
        "boosting, all features, isotonic": (iso.predict_proba(test), True),
        "boosting, all features, sigmoid (served)": (new.predict_proba(test), True),
    }, new


def retail_churn(lines: pd.DataFrame) -> None:
    config = ChurnConfig(window_days=WINDOW)
    cutoffs = sorted(FIT_CUTOFF - pd.Timedelta(days=i * config.cutoff_step_days) for i in range(config.n_train_cutoffs))
    test = labelled_frame(lines, cutoff=EVAL_CUTOFF, window_days=WINDOW)
    y = test["churned"].to_numpy()
    scores, model = churn_scores(lines, config, cutoffs, test)
    print(f"\n## Online Retail churn: train cut-offs {[f'{c:%Y-%m-%d}' for c in cutoffs]}, test {EVAL_CUTOFF:%Y-%m-%d} + {WINDOW} days")
    print(f"customers {len(test)}, churn rate {y.mean():.3f}; model features ({len(model.features)}): {', '.join(model.features)}")
    print("| model | ROC AUC | PR AUC | Brier | calibration error | top-decile lift |\n| --- | --- | --- | --- | --- | --- |")
    for name, (score, is_probability) in scores.items():
        row = probability_row(y, score, probability=is_probability)
        cells = [f"{row[k]:.4f}" if isinstance(row[k], float) else row[k] for k in ("roc_auc", "pr_auc", "brier", "ece")]
        print(f"| {name} | " + " | ".join(cells) + f" | {row['top_decile_lift']:.2f} |")
    served, rfm = scores["boosting, all features, sigmoid (served)"][0], scores["baseline: logistic regression on log R/F/M"][0]
    before = scores["boosting, R/F/M + trend features (before)"][0]
    for label, other in [("logistic R/F/M", rfm), ("boosting before", before)]:
        gain = paired_bootstrap(y, served, other, roc_auc_score, n_boot=500, seed=0)
        print(f"served minus {label}: ROC AUC {gain['difference']:+.4f} (95% paired bootstrap {gain['low']:+.4f} to {gain['high']:+.4f})")
    retail_churn_detail(lines, test, y, served, scores["baseline: logistic regression on log R/F/M"][0], model)


CHURN_VARIANTS = (  # (label, configuration changes, training cut-offs, days between them): tried for issue 18's 0.77
    ("served: 4 cut-offs 30 days apart, 80 trees of 6 leaves", {}, 4, 30),
    ("8 cut-offs 14 days apart", {}, 8, 14),
    ("12 cut-offs 14 days apart", {}, 12, 14),
    ("12 cut-offs 7 days apart", {}, 12, 7),
    ("300 trees, learning rate 0.03", {"max_iter": 300, "learning_rate": 0.03}, 4, 30),
    ("15 leaves, 50 customers a leaf", {"max_leaf_nodes": 15, "min_samples_leaf": 50}, 4, 30),
    ("12 cut-offs 14 days apart, 300 trees at 0.03, 100 a leaf", {"max_iter": 300, "learning_rate": 0.03, "min_samples_leaf": 100}, 12, 14),
)


def retail_churn_variants(lines: pd.DataFrame) -> None:
    """More training cut-offs, longer or deeper boosting, and the booster's and the logistic
    baseline's ranks averaged, on the issue's protocol, each against the served configuration."""
    test = labelled_frame(lines, cutoff=EVAL_CUTOFF, window_days=WINDOW)
    y = test["churned"].to_numpy()
    print(f"\n## Online Retail churn variants (test {EVAL_CUTOFF:%Y-%m-%d} + {WINDOW} days, {len(test)} customers)")
    print("| variant | training rows | booster ROC AUC | logistic ROC AUC | rank average ROC AUC | booster vs served [95%] | rank average vs served [95%] |\n| --- | --- | --- | --- | --- | --- | --- |")
    frames, served = {}, None
    for label, changes, n, step in CHURN_VARIANTS:
        if (n, step) not in frames:
            frames[n, step] = training_frame(lines, sorted(FIT_CUTOFF - pd.Timedelta(days=i * step) for i in range(n)), window_days=WINDOW)
        model = fit_churn(frames[n, step], replace(ChurnConfig(window_days=WINDOW), **changes))
        booster, logistic = model.predict_proba(test), model.predict_baseline(test)
        both = rankdata(booster) + rankdata(logistic)
        served = booster if served is None else served
        gains = [paired_bootstrap(y, score, served, roc_auc_score, n_boot=500, seed=0) for score in (booster, both)]
        print(f"| {label} | {len(frames[n, step]):,} | {roc_auc_score(y, booster):.4f} | {roc_auc_score(y, logistic):.4f} | {roc_auc_score(y, both):.4f} | "
              + " | ".join(f"{g['difference']:+.4f} [{g['low']:+.4f}, {g['high']:+.4f}]" for g in gains) + " |", flush=True)



def habit_features(lines: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per customer at the cut-off, beyond the served features (tried for issue 18, not served):
    weeks with a purchase in the last 4..52, days since the second-to-last order, orders in the
    last 30 / 182 days, and buying habits (median units and distinct products an order, median
    unit price, share of lines of 12 units or more: Online Retail's wholesale buyers)."""
    sale = lines[(lines["placed_at"] < cutoff) & (lines["quantity"] > 0)]
    sale = sale.assign(day=sale["placed_at"].dt.floor("D"))
    out = pd.DataFrame(index=pd.Index(np.sort(sale["customer_id"].unique()), name="customer_id"))
    weeks = (cutoff - sale["day"]).dt.days // 7
    for span in (4, 8, 13, 26, 52):
        out[f"active_weeks_{span}"] = weeks[weeks < span].groupby(sale["customer_id"]).nunique().reindex(out.index).fillna(0)
    orders = (sale.groupby(["customer_id", "order_id"]).agg(day=("day", "first"), units=("quantity", "sum"), products=("product_id", "nunique"))
              .reset_index().sort_values(["customer_id", "day"]))
    second_last = orders.groupby("customer_id").nth(-2).set_index("customer_id")["day"]
    out["days_since_second_last"] = (cutoff - second_last).dt.days
    for days in (30, 182):
        out[f"orders_last_{days}"] = orders[orders["day"] >= cutoff - pd.Timedelta(days=days)].groupby("customer_id").size().reindex(out.index).fillna(0)
    out["units_per_order"] = orders.groupby("customer_id")["units"].median()
    out["products_per_order"] = orders.groupby("customer_id")["products"].median()
    out["unit_price_median"] = sale.groupby("customer_id")["unit_price"].median()
    out["large_line_share"] = (sale["quantity"] >= 12).groupby(sale["customer_id"]).mean()
    return out


HABIT_SETS = {
    "weeks with a purchase (last 4, 8, 13, 26, 52)": ["active_weeks_4", "active_weeks_8", "active_weeks_13", "active_weeks_26", "active_weeks_52"],
    "second-to-last order, orders in 30 / 182 days": ["days_since_second_last", "orders_last_30", "orders_last_182"],
    "buying habits (units, products, price, large lines)": ["units_per_order", "products_per_order", "unit_price_median", "large_line_share"],
}


def retail_churn_habits(lines: pd.DataFrame) -> None:
    """The served features plus each set of `habit_features`, on the issue's protocol, against the served configuration."""
    config = ChurnConfig(window_days=WINDOW)
    cutoffs = sorted(FIT_CUTOFF - pd.Timedelta(days=i * config.cutoff_step_days) for i in range(config.n_train_cutoffs))
    train = training_frame(lines, cutoffs, window_days=WINDOW)
    test = labelled_frame(lines, cutoff=EVAL_CUTOFF, window_days=WINDOW).reset_index().assign(cutoff=EVAL_CUTOFF)

    def joined(frame):
        return pd.concat([g.merge(habit_features(lines, c), left_on="customer_id", right_index=True, how="left") for c, g in frame.groupby("cutoff")]).loc[frame.index]

    train_x, test_x, y = joined(train), joined(test), test["churned"].to_numpy()
    served = fit_churn(train, config).predict_proba(test)
    print(f"\n## Online Retail churn with habit features (test {EVAL_CUTOFF:%Y-%m-%d} + {WINDOW} days, {len(test)} customers; served ROC AUC {roc_auc_score(y, served):.4f})")
    print("| added to the served features | booster ROC AUC | vs served [95%] | 300 trees at 0.03: ROC AUC | vs served [95%] |\n| --- | --- | --- | --- | --- |")
    sets = {**HABIT_SETS, "all three": [c for cols in HABIT_SETS.values() for c in cols]}
    for label, columns in sets.items():
        cells = []
        for changes in ({}, {"max_iter": 300, "learning_rate": 0.03}):
            score = fit_churn(train_x, replace(config, **changes), features=CHURN_FEATURES + columns).predict_proba(test_x)
            gain = paired_bootstrap(y, score, served, roc_auc_score, n_boot=500, seed=0)
            cells += [f"{roc_auc_score(y, score):.4f}", f"{gain['difference']:+.4f} [{gain['low']:+.4f}, {gain['high']:+.4f}]"]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)

def retail_churn_detail(lines, test, y, served, base, model) -> None:
    print("reliability (served): " + "; ".join(f"{p:.2f}->{o:.2f} (n {n})" for p, o, n in zip(*calibration_bins(y, served).values(), strict=True)))
    print("lift deciles (served): " + "; ".join(f"{r['decile']}: rate {r['churn_rate']:.3f} lift {r['lift']:.2f} captured {r['captured']:.3f}" for r in lift_deciles(y, served)))
    for threshold in (0.52, 0.7):
        flagged = served >= threshold
        print(f"at risk at >= {threshold}: {flagged.mean():.1%} of customers, churn rate among them {y[flagged].mean():.3f}")
    groups = country_groups(customer_countries(lines).reindex(test.index).fillna("Unknown"), min_customers=50)
    print("per country group (served | logistic baseline ROC AUC):")
    for row, brow in zip(group_table(y, served, groups), group_table(y, base, groups), strict=True):
        print(f"  {row['group']:<16} n {row['n']:>5}  churn {row['churn_rate']:.3f}  auc {row['roc_auc']:.4f} | {brow['roc_auc']:.4f}"
              f"  pr {row['pr_auc']:.4f}  brier {row['brier']:.4f}  lift {row['top_decile_lift']:.2f}")
    importances = feature_importances(model, test, seed=0)[:8]
    print("permutation importances (top 8): " + ", ".join(f"{r['feature']} {r['importance']:.4f}" for r in importances))
    reasons = model.reasons(test.drop(columns=["churned", "cutoff"]))
    print("example reasons:", *reasons.sort_values("probability")["reason"].iloc[[-1, len(reasons) // 2, 0]], sep="\n  ")


def retail_clv(lines: pd.DataFrame) -> None:
    end = EVAL_CUTOFF + pd.Timedelta(days=WINDOW)
    actual = net_spend(lines, EVAL_CUTOFF, end)
    past = net_spend(lines, lines["placed_at"].min(), EVAL_CUTOFF)
    capped = model_value(lines, cutoff=EVAL_CUTOFF, window_days=WINDOW, unit_days=7.0, cap_quantile=0.99)
    uncapped = model_value(lines, cutoff=EVAL_CUTOFF, window_days=WINDOW, unit_days=7.0, cap_quantile=None)
    index = capped.index
    held = actual.reindex(index, fill_value=0.0).clip(lower=0).to_numpy()
    rankings = {"BG/NBD x Gamma-Gamma, net spend, repeat spend capped at p99": capped.to_numpy(),
                "BG/NBD x Gamma-Gamma, net spend, uncapped": uncapped.to_numpy(),
                "baseline: past net spend (served)": past.reindex(index, fill_value=0.0).to_numpy()}
    print(f"\n## Online Retail CLV ({len(index)} customers), fitted before {EVAL_CUTOFF:%Y-%m-%d}, held-out {WINDOW} days")
    print("| ranking | Spearman | top-decile capture |\n| --- | --- | --- |")
    for name, score in rankings.items():
        row = ranking_figures(score, held)
        print(f"| {name} | {row['spearman']:.4f} | {row['top_decile_capture']:.1%} |")
    for name in list(rankings)[:2]:
        diff = paired_difference(rankings[name], rankings["baseline: past net spend (served)"], held, n_boot=500)
        print(f"{name} minus past spend: " + "; ".join(f"{k} {v['difference']:+.4f} (95% {v['low']:+.4f} to {v['high']:+.4f})" for k, v in diff.items()))
    retail_clv_whole_file(lines)


def retail_clv_whole_file(lines: pd.DataFrame) -> None:
    """The issue's case on the whole file: customer 16446's 80,995-unit order, cancelled the same day."""
    snap = lines["placed_at"].max().floor("D") + pd.Timedelta(days=1)
    summary = bgnbd.rfm_summary(lines, snapshot=snap)
    cap = gamma_gamma.spend_cap(summary["frequency"], summary["monetary"])
    bg = bgnbd.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    gg = gamma_gamma.fit_gamma_gamma(summary["frequency"], gamma_gamma.capped(summary["monetary"], cap))
    value = pd.Series(gamma_gamma.customer_lifetime_value(bg, gg, summary["frequency"], summary["recency"], summary["T"], gamma_gamma.capped(summary["monetary"], cap)), index=summary.index)
    print(f"whole file at {snap:%Y-%m-%d}: customer 16446 frequency {summary.loc[16446, 'frequency']:.0f}, repeat spend {summary.loc[16446, 'monetary']:.2f}, "
          f"12-month model value {value[16446]:,.2f} (before the fix: 187,387); largest model value {value.max():,.0f}; repeat-spend cap {cap:,.2f}")
    start = time.perf_counter()
    small = summary.sample(n=3000, random_state=0)
    draws = bootstrap_draws(small, draws=40, seed=0)
    interval = value_interval(draws, small, unit_days=7.0)
    width = ((interval["high"] - interval["low"]) / value.reindex(small.index)).median()
    print(f"bootstrap intervals, 3,000-customer sample, 40 refits: {time.perf_counter() - start:.1f} s; median 90% interval width {width:.0%} of the value")


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
    timed("R/F/M + trend features only (before 18)", lambda: add_derived(build_customer_features(lines, snapshot=end)))
    start = time.perf_counter()
    features = timed("score: features at today", lambda: model_features(model, lines, snapshot=end))
    timed("score: churn + reasons", lambda: model.reasons(features))
    timed("score: P(alive), E[purchases] 30/90/365", lambda: [bgnbd.expected_purchases(bg, d / 7, summary["frequency"], summary["recency"], summary["T"]) for d in (30, 90, 365)])
    timed("score: 12-month CLV", lambda: gamma_gamma.customer_lifetime_value(bg, gg, summary["frequency"], summary["recency"], summary["T"], summary["monetary"]))
    print(f"  {'score total (without the database write)':<40} {time.perf_counter() - start:8.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--churn-variants", action="store_true", help="only the Online Retail churn variants tried for issue 18")
    parser.add_argument("--churn-habits", action="store_true", help="only the Online Retail churn with the habit features tried for issue 18")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared with other jobs), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f}")
    if args.churn_variants:
        retail_churn_variants(load_online_retail(DATA / "online-retail" / "online_retail.csv.gz"))
        return
    if args.churn_habits:
        retail_churn_habits(load_online_retail(DATA / "online-retail" / "online_retail.csv.gz"))
        return
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
