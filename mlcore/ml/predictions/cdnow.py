"""The CDNOW cohort (Fader, Hardie & Lee 2005): the published 1/10 sample's summaries, its spend
from the master file, and the weeks 40-78 hold-out check.

The shipped summary (cdnow_customers_summary.csv: ID, frequency, recency, T in weeks) has no
customer ids of the master file and no spend. Its rows are sorted by T (first purchase) and are
an order-preserving subsequence of the master's customers sorted by (T desc, id), so each sample
row is matched to the first master customer with the same (frequency, recency, T) in that order.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")


def read_master(path: Path) -> pd.DataFrame:
    """Customer-day transactions (repeat lines of one day summed, as BG/NBD counts them)."""
    raw = pd.read_csv(path, sep=r"\s+", skiprows=1, header=None, names=["customer", "date", "cds", "value"], dtype={"date": str})
    if raw["date"].str.len().ne(8).any():
        bad = raw.index[raw["date"].str.len().ne(8)][0]
        raise ValueError(f"{path}: line {bad + 2}: date must be YYYYMMDD")
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw.groupby(["customer", "date"], as_index=False)["value"].sum()


def calibration_summary(days: pd.DataFrame, end: pd.Timestamp = CALIBRATION_END) -> pd.DataFrame:
    cal = days[days["date"] <= end].sort_values(["customer", "date"])
    per = cal.groupby("customer")["date"]
    first = per.transform("min")
    repeat = cal.loc[cal["date"] > first].groupby("customer")["value"].mean()
    out = pd.DataFrame({
        "frequency": per.size() - 1,
        "recency": (per.max() - per.min()).dt.days / 7.0,
        "T": (end - per.min()).dt.days / 7.0,
    })
    out["monetary"] = repeat.reindex(out.index).fillna(0.0)
    return out


def match_sample(summary: pd.DataFrame, master_summary: pd.DataFrame) -> np.ndarray:
    """Master customer id of every sample row (see the module docstring)."""
    ordered = master_summary.assign(r2=master_summary["recency"].round(2), T2=master_summary["T"].round(2))
    ordered = ordered.reset_index().sort_values(["T2", "customer"], ascending=[False, True])
    keys = list(zip(ordered["frequency"], ordered["r2"], ordered["T2"], strict=True))
    ids = ordered["customer"].to_numpy()
    position, matched = 0, []
    for row in summary.itertuples(index=False):
        key = (row.frequency, round(row.recency, 2), round(row.T, 2))
        while position < len(keys) and keys[position] != key:
            position += 1
        if position == len(keys):
            raise ValueError(f"CDNOW sample row {row.ID} has no matching master customer")
        matched.append(ids[position])
        position += 1
    return np.asarray(matched)


def load_sample(summary_path: Path, master_path: Path) -> pd.DataFrame:
    """The 2,357-customer sample: frequency, recency, T, monetary, and hold-out repeat purchases."""
    summary = pd.read_csv(summary_path)
    days = read_master(master_path)
    master = calibration_summary(days)
    customers = match_sample(summary, master)
    sample = master.loc[customers].copy()
    holdout = days[(days["date"] > CALIBRATION_END) & (days["date"] <= HOLDOUT_END)]
    sample["holdout_purchases"] = holdout.groupby("customer").size().reindex(customers, fill_value=0).to_numpy()
    sample.index.name = "customer"
    return sample
