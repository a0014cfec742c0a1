"""Popularity: distinct buyers of each product over the last days of training, per country.

A country's list is shrunk towards the global one (pseudo-count `smoothing`) so a country with
a handful of customers does not get a list made of one customer's basket.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.ml.recommendations.interactions import Interactions


@dataclass(frozen=True)
class Popularity:
    global_scores: np.ndarray  # per column, in [0, 1]
    country_scores: dict[str, np.ndarray]


def fit_popularity(lines: pd.DataFrame, data: Interactions, *, recent_days: int = 90, smoothing: float = 50.0) -> Popularity:
    recent = lines[lines["placed_at"] >= data.as_of - pd.Timedelta(days=recent_days)]
    recent = recent[recent["product_id"].isin(data.item_ids)].drop_duplicates(["customer_id", "product_id"])
    cols = pd.Index(data.item_ids).get_indexer(recent["product_id"].to_numpy())
    n_items = len(data.item_ids)
    total = np.bincount(cols, minlength=n_items).astype(np.float64)
    global_share = total / max(recent["customer_id"].nunique(), 1)
    by_country: dict[str, np.ndarray] = {}
    for country, group in recent.assign(col=cols).groupby("country"):
        counts = np.bincount(group["col"].to_numpy(), minlength=n_items).astype(np.float64)
        buyers = group["customer_id"].nunique()
        by_country[str(country)] = ((counts + smoothing * global_share) / (buyers + smoothing)).astype(np.float32)
    return Popularity(global_scores=global_share.astype(np.float32), country_scores=by_country)


def popularity_scores(model: Popularity, countries: np.ndarray) -> np.ndarray:
    """Rows of scores for customers of these countries (the global list for an unknown one)."""
    return np.vstack([model.country_scores.get(str(c), model.global_scores) for c in countries])
