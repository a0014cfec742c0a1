"""Names, profiles and descriptions of segments, and the plain RFM-quintile baseline.

Every customer gets R, F, M scores 1..5 (quintiles of recency (5 = most recent), frequency and
monetary value over the whole population). A cluster's mean scores place it near one of the
textbook RFM prototypes below; names are given by a Hungarian assignment of clusters to
prototypes, so no two segments of a run share a name. Descriptions are written from the
segment's own medians, so they stay true whatever the name.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

# name -> (R, F, M, T) on 1..5 scores; T is tenure (5 = longest-standing customers)
PROTOTYPES: dict[str, tuple[float, float, float, float]] = {
    "Champions": (4.7, 4.7, 4.7, 4.2),
    "Loyal": (3.8, 4.0, 4.0, 4.0),
    "Potential loyalists": (4.2, 3.0, 3.0, 3.0),
    "Promising": (4.2, 2.0, 2.0, 2.5),
    "New": (4.8, 1.3, 1.8, 1.3),
    "Need attention": (3.0, 3.0, 3.0, 3.0),
    "At risk": (2.0, 3.5, 3.5, 3.8),
    "Can't lose them": (1.6, 4.6, 4.6, 4.6),
    "Hibernating": (2.0, 1.7, 1.8, 2.5),
    "Lost": (1.2, 1.2, 1.3, 2.0),
}
PROFILE_COLUMNS = ("recency_days", "frequency", "monetary", "avg_order_value", "tenure_days")

# The classic RFM segment map on the R and F scores (regex on "RF"), the usual baseline.
RFM_MAP = [
    (r"[1-2][1-2]", "Hibernating"), (r"[1-2][3-4]", "At risk"), (r"[1-2]5", "Can't lose them"),
    (r"3[1-2]", "About to sleep"), (r"33", "Need attention"), (r"[3-4][4-5]", "Loyal"),
    (r"41", "Promising"), (r"51", "New"), (r"[4-5][2-3]", "Potential loyalists"), (r"5[4-5]", "Champions"),
]


@dataclass(frozen=True)
class SegmentInfo:
    index: int  # cluster index in the fit
    key: str
    name: str
    description: str
    size: int
    revenue_share: float
    profile: dict[str, float]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """1..5 by quintile of rank (ties broken by order, so heavy ties still spread)."""
    ranks = values.rank(method="first", ascending=higher_is_better, pct=True)
    return np.ceil(ranks * 5).clip(1, 5).astype("int64")


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "R": quintile_scores(features["recency_days"], higher_is_better=False),
        "F": quintile_scores(features["frequency"]),
        "M": quintile_scores(features["monetary"]),
        "T": quintile_scores(features["tenure_days"]),
    }, index=features.index)


def rfm_segments(features: pd.DataFrame) -> pd.Series:
    """The RFM-quintile baseline: a segment name per customer from its R and F scores."""
    scores = rfm_scores(features)
    rf = scores["R"].astype(str) + scores["F"].astype(str)
    names = pd.Series("Other", index=features.index)
    for pattern, name in RFM_MAP:
        names[rf.str.fullmatch(pattern)] = name
    return names


def cluster_names(features: pd.DataFrame, labels: np.ndarray, k: int) -> dict[int, str]:
    """Cluster index -> prototype name, unique within the run."""
    means = rfm_scores(features).groupby(labels).mean().reindex(range(k))
    names = list(PROTOTYPES)
    proto = np.array([PROTOTYPES[n] for n in names])
    cost = np.sqrt(((means.to_numpy()[:, None, :] - proto[None, :, :]) ** 2).sum(axis=2))
    rows, cols = linear_sum_assignment(np.nan_to_num(cost, nan=99.0))
    chosen = {int(r): names[c] for r, c in zip(rows, cols, strict=True)}
    return {i: chosen.get(i, f"Segment {i + 1}") for i in range(k)}


def segment_profiles(features: pd.DataFrame, labels: np.ndarray, k: int) -> pd.DataFrame:
    """Per cluster: size, revenue share and the medians of the profile columns."""
    grouped = features.groupby(labels)
    prof = grouped[list(PROFILE_COLUMNS)].median().reindex(range(k))
    prof["size"] = grouped.size().reindex(range(k), fill_value=0)
    revenue = features["monetary"].clip(lower=0)
    total = revenue.sum()
    prof["revenue_share"] = (revenue.groupby(labels).sum().reindex(range(k), fill_value=0) / total) if total > 0 else 0.0
    return prof


def whole_units(amount: float) -> str:
    """An amount without a currency (the caller passes one that adds the shop's: customers.money)."""
    return f"{amount:,.0f}"


def describe(name: str, row: pd.Series, population: int, money: Callable[[float], str] = whole_units) -> str:
    share = row["size"] / population if population else 0.0
    return (
        f"{name}: {int(row['size']):,} customers ({share:.0%} of customers, {row['revenue_share']:.0%} of revenue). "
        f"Typically last bought {row['recency_days']:.0f} days ago, {row['frequency']:.0f} order(s) over "
        f"{row['tenure_days']:.0f} days, {money(row['monetary'])} net spend, "
        f"{money(row['avg_order_value'])} per order."
    )


def name_segments(
    features: pd.DataFrame, labels: np.ndarray, k: int, *, inherited: dict[int, tuple[str, str]] | None = None,
    money: Callable[[float], str] = whole_units,
) -> list[SegmentInfo]:
    """Segments of one fit. `inherited` (cluster -> (key, name)) keeps matched segments' identity."""
    inherited = inherited or {}
    fresh = cluster_names(features, labels, k)
    taken = {name for _, name in inherited.values()}
    prof = segment_profiles(features, labels, k)
    out = []
    for i in range(k):
        key, name = inherited.get(i, (None, None))
        if name is None:
            name = fresh[i] if fresh[i] not in taken else f"{fresh[i]} {i + 1}"
            key = slug(name)
            taken.add(name)
        row = prof.loc[i]
        profile = {c: float(row[c]) for c in PROFILE_COLUMNS}
        out.append(SegmentInfo(
            index=i, key=key, name=name, description=describe(name, row, len(features), money),
            size=int(row["size"]), revenue_share=float(row["revenue_share"]), profile=profile,
        ))
    return out
