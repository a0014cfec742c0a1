"""Churn features beyond R/F/M, point-in-time at a snapshot (no Django; docs/models.md lists them).

- own cadence: `cadence_hazard`, the probability of an order in the next `window_days` given the
  days since the last one, from the customer's own gaps between order days shrunk towards the
  shop's gaps (`prior_gaps` pseudo-gaps), and `overdue_z`, the days since the last order against
  the customer's usual log-gap (shrunk the same way);
- seasonality: orders and spend in the same `window_days` a year earlier (NaN where the customer
  had not started by the end of that window);
- basket composition: spend shares of the shop's largest categories (a vocabulary fixed at
  training), the rest, and the concentration (sum of squared shares over all categories);
- returns: share of gross spend returned, share of orders with a return or cancellation;
- reviews in the last `recent_days`: count, mean rating, mean sentiment, negative ones;
- support contacts in the last `recent_days`: customer events of kind "support" / "support_neg".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
N_BASKET = 8
BASKET_FEATURES = [f"basket_share_{i}" for i in range(1, N_BASKET + 1)] + ["basket_share_other", "basket_concentration"]
SIGNAL_FEATURES = [
    "cadence_hazard", "overdue_z", "orders_same_window_last_year", "spend_same_window_last_year",
    *BASKET_FEATURES, "return_value_share", "returned_order_share",
    "reviews_recent", "review_rating_recent", "review_sentiment_recent", "reviews_negative_recent",
    "support_contacts_recent", "support_negative_recent",
]
SUPPORT_KINDS = {"support": "support_contacts_recent", "support_neg": "support_negative_recent"}


def order_days(sales: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and order day (orders of one day count once), sorted by customer and day."""
    days = sales.assign(day=sales["placed_at"].dt.floor("D")).groupby(["customer_id", "day"], sort=True)["amount"].sum()
    return days.rename("value").reset_index()


def day_gaps(days: pd.DataFrame) -> pd.DataFrame:
    gaps = (days["day"] - days.groupby("customer_id")["day"].shift()) / DAY
    return pd.DataFrame({"customer_id": days["customer_id"], "gap": gaps}).dropna()


def gap_histogram(days: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The shop's gaps between a customer's consecutive order days as (distinct gaps ascending, their counts):
    the shop-level part of the cadence features, small (whole days) and the same however customers are split."""
    values, counts = np.unique(day_gaps(days)["gap"].to_numpy(dtype="float64"), return_counts=True)
    return values, counts.astype("int64")


def population_survival(values: np.ndarray, counts: np.ndarray):
    """t -> P(gap > t) over the shop's gaps (a histogram), smoothed with one pseudo-gap beyond every t."""
    below = np.r_[0, np.cumsum(counts)]  # gaps <= values[i - 1]
    n = int(below[-1])
    return lambda t: (n - below[np.searchsorted(values, t, side="right")] + 1.0) / (n + 1.0)


def population_log_gap(values: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of log(1 + gap) over the shop's gaps (0, 1 without any)."""
    n = counts.sum()
    if not n:
        return 0.0, 1.0
    logs = np.log1p(values)
    mean = float((counts * logs).sum() / n)
    return mean, float(np.sqrt((counts * (logs - mean) ** 2).sum() / n)) or 1.0


def cadence_features(days: pd.DataFrame, snapshot: pd.Timestamp, window_days: int, prior_gaps: float = 2.0,
                     histogram: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """cadence_hazard = P(next gap <= s + w | gap > s) and overdue_z, per customer (s = days since the last order day).

    `histogram` is the shop's gaps (`gap_histogram` of every customer's days); without it, those of `days`.
    """
    since = (snapshot.floor("D") - days.groupby("customer_id")["day"].max()) / DAY
    gaps = day_gaps(days)
    values, counts = histogram if histogram is not None else gap_histogram(days)
    survival = population_survival(values, counts)
    s_of = gaps["customer_id"].map(since)
    own = pd.DataFrame({
        "alive": (gaps["gap"] > s_of).astype("float64"),
        "event": ((gaps["gap"] > s_of) & (gaps["gap"] <= s_of + window_days)).astype("float64"),
        "log_gap": np.log1p(gaps["gap"]),
        "customer_id": gaps["customer_id"],
    }).groupby("customer_id").agg(alive=("alive", "sum"), event=("event", "sum"), n=("log_gap", "size"), mean=("log_gap", "mean"))
    own = own.reindex(since.index, fill_value=0.0)
    s = since.to_numpy(dtype="float64")
    p_alive, p_after = survival(s), survival(s + window_days)
    hazard = (own["event"] + prior_gaps * (p_alive - p_after)) / (own["alive"] + prior_gaps * p_alive)
    pop_mean, pop_std = population_log_gap(values, counts)
    usual = (own["n"] * own["mean"].fillna(0.0) + prior_gaps * pop_mean) / (own["n"] + prior_gaps)
    return pd.DataFrame({"cadence_hazard": hazard.clip(0.0, 1.0), "overdue_z": (np.log1p(s) - usual) / pop_std}, index=since.index)


def seasonal_features(days: pd.DataFrame, snapshot: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Orders and spend in [snapshot - 365 days, + window_days): what the customer did in the coming months a year ago."""
    start = snapshot - pd.Timedelta(days=365)
    end = start + pd.Timedelta(days=window_days)
    inside = (days["day"] >= start) & (days["day"] < end)
    grouped = days.assign(n=inside.astype("int64"), v=days["value"].where(inside, 0.0)).groupby("customer_id")
    started = grouped["day"].min() < end
    return pd.DataFrame({
        "orders_same_window_last_year": grouped["n"].sum().where(started).astype("float64"),
        "spend_same_window_last_year": grouped["v"].sum().where(started),
    })


def category_sales(sales: pd.DataFrame) -> pd.Series:
    """Sales (amount) per category ("" for none), categories ascending: the shop-level input of the basket features."""
    if "category" not in sales.columns:
        return pd.Series(dtype="float64")
    return sales.assign(category=sales["category"].fillna("").astype(str)).groupby("category")["amount"].sum()


def vocabulary_of(totals: pd.Series, size: int = N_BASKET) -> list[str]:
    """The `size` categories with the most sales in `totals` (category -> amount), largest first."""
    totals = totals[totals.index != ""].sort_index().sort_values(ascending=False, kind="stable")
    return [str(c) for c in totals.index[:size]]


def basket_vocabulary(sales: pd.DataFrame, size: int = N_BASKET) -> list[str]:
    """The shop's `size` categories with the most sales (by amount), largest first: the basket shares' order."""
    return vocabulary_of(category_sales(sales), size) if not sales.empty else []


def basket_features(sales: pd.DataFrame, vocabulary: list[str], categories: list[str] | None = None) -> pd.DataFrame:
    """Spend shares of the vocabulary's categories (basket_share_1.. in its order), the rest, and the concentration.

    `categories` (every category of the shop, ascending) fixes the columns the sums run over, so a
    customer's shares come out bit for bit the same in any shard of customers.
    """
    category = sales["category"].fillna("").astype(str) if "category" in sales.columns else pd.Series("", index=sales.index)
    spend = sales.assign(category=category, amount=sales["amount"].clip(lower=0)).groupby(["customer_id", "category"])["amount"].sum().unstack(fill_value=0.0)
    columns = sorted(set(categories) | set(spend.columns)) if categories is not None else list(spend.columns)
    # sums over a C-ordered array of the same columns add each row's values in the same order in any shard
    values = np.ascontiguousarray(spend.reindex(columns=columns, fill_value=0.0).to_numpy(dtype="float64"))
    total = values.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = values / np.where(total > 0, total, np.nan)[:, None]
    position = {name: j for j, name in enumerate(columns)}
    out = pd.DataFrame(index=spend.index)
    for i in range(N_BASKET):
        j = position.get(vocabulary[i]) if i < len(vocabulary) else None
        out[f"basket_share_{i + 1}"] = shares[:, j] if j is not None else 0.0
    out["basket_share_other"] = 1.0 - np.ascontiguousarray(out.to_numpy(dtype="float64")).sum(axis=1)
    out["basket_concentration"] = (shares**2).sum(axis=1)
    out.loc[total <= 0] = np.nan
    return out


def return_features(sales: pd.DataFrame, returns: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Returned value / gross spend (0-1) and orders with a return or cancellation / sale orders."""
    gross = sales.groupby("customer_id")["amount"].sum().reindex(index)
    returned = -returns.groupby("customer_id")["amount"].sum().reindex(index, fill_value=0.0)
    sale_orders = sales.groupby("customer_id")["order_id"].nunique().reindex(index)
    return_orders = returns.groupby("customer_id")["order_id"].nunique().reindex(index, fill_value=0)
    return pd.DataFrame({
        "return_value_share": (returned / gross.where(gross > 0)).clip(0.0, 1.0).fillna(0.0),
        "returned_order_share": (return_orders / sale_orders).clip(0.0, 1.0).fillna(0.0),
    }, index=index)


def recent(frame: pd.DataFrame | None, column: str, snapshot: pd.Timestamp, days: int) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["customer_id"])
    keep = frame["customer_id"].notna() & (frame[column] < snapshot) & (frame[column] >= snapshot - pd.Timedelta(days=days))
    part = frame.loc[keep]
    return part.assign(customer_id=part["customer_id"].astype("int64"))


def review_signals(reviews: pd.DataFrame | None, snapshot: pd.Timestamp, index: pd.Index, days: int) -> pd.DataFrame:
    """Reviews of the last `days`: count, mean rating, mean sentiment (-1..1), negative ones (rating <= 2 or sentiment < 0)."""
    part = recent(reviews, "created_at", snapshot, days)
    rating = part["rating"].astype("float64") if "rating" in part else pd.Series(np.nan, index=part.index)
    sentiment = part["sentiment"].astype("float64") if "sentiment" in part else pd.Series(np.nan, index=part.index)
    negative = (rating <= 2) | (sentiment < 0)
    grouped = pd.DataFrame({"customer_id": part["customer_id"], "r": rating, "s": sentiment, "neg": negative.astype("int64")}).groupby("customer_id")
    return pd.DataFrame({
        "reviews_recent": grouped.size().reindex(index, fill_value=0).astype("float64"),
        "review_rating_recent": grouped["r"].mean().reindex(index),
        "review_sentiment_recent": grouped["s"].mean().reindex(index),
        "reviews_negative_recent": grouped["neg"].sum().reindex(index, fill_value=0).astype("float64"),
    }, index=index)


def support_signals(events: pd.DataFrame | None, snapshot: pd.Timestamp, index: pd.Index, days: int) -> pd.DataFrame:
    """Support contacts and negative support messages (customer events) in the last `days`."""
    part = recent(events, "occurred_at", snapshot, days)
    out = pd.DataFrame(0.0, index=index, columns=list(SUPPORT_KINDS.values()))
    if len(part):
        counts = part[part["kind"].isin(list(SUPPORT_KINDS))].groupby(["customer_id", "kind"]).size().unstack(fill_value=0)
        for kind, name in SUPPORT_KINDS.items():
            if kind in counts.columns:
                out[name] = counts[kind].reindex(index, fill_value=0).astype("float64")
    return out


def signal_features(
    lines: pd.DataFrame, snapshot, *, window_days: int, vocabulary: list[str],
    reviews: pd.DataFrame | None = None, events: pd.DataFrame | None = None, recent_days: int = 90,
    histogram: tuple[np.ndarray, np.ndarray] | None = None, categories: list[str] | None = None,
) -> pd.DataFrame:
    """Every SIGNAL_FEATURES column for the customers with a sale before `snapshot` (index customer_id).

    `vocabulary`, `histogram` and `categories` are the shop's (see `cadence_features`, `basket_features`):
    given them, a shard of the customers' lines gives exactly those customers' rows of the whole shop."""
    from mlcore.ml.features import as_utc, lines_before
    from mlcore.ml.sales import sales as sale_lines

    snap = as_utc(snapshot)
    usable = lines_before(lines, snap)
    sales, returns = sale_lines(usable), usable[usable["quantity"] < 0]
    days = order_days(sales)
    index = pd.Index(days["customer_id"].unique(), name="customer_id")
    out = cadence_features(days, snap, window_days, histogram=histogram).join(seasonal_features(days, snap, window_days))
    out = out.join(basket_features(sales, vocabulary, categories)).join(return_features(sales, returns, index))
    out = out.join(review_signals(reviews, snap, index, recent_days)).join(support_signals(events, snap, index, recent_days))
    return out[SIGNAL_FEATURES].sort_index()
