"""Per-customer features at a snapshot date, vectorised in pandas (no per-customer loop).

Input is an order-lines frame shaped like `customers.selectors.order_lines_frame()`:
customer_id, order_id, placed_at (tz-aware), product_id, category, product_kind, quantity,
amount (quantity * unit_price; negative for returns). Only lines placed strictly before the
snapshot are used, so a snapshot is point-in-time correct. Fees (product_kind == "fee") and
guest lines (no customer_id) are left out. Customers are those with at least one sale before
the snapshot.

Features (one row per customer, index customer_id):
- recency_days: days since the last order; tenure_days: days since the first order
- frequency: distinct orders; monetary: net spend after returns; avg_order_value: gross / orders
- interpurchase_mean_days, interpurchase_std_days: gaps between consecutive orders (NaN with one order)
- return_rate: returned units / bought units, clipped to [0, 1]
- distinct_products, distinct_categories
- orders_last_90, orders_prev_90, spend_last_90, spend_prev_90 and activity_trend =
  (spend_last_90 - spend_prev_90) / (spend_last_90 + spend_prev_90) in [-1, 1] (0 when both are 0)
- review_count, review_rating_mean, review_sentiment_mean (when a reviews frame is given)
- event_count and events_<kind> (when an events frame is given)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.ml.sales import returns as return_lines
from mlcore.ml.sales import sales as sale_lines

DAY = pd.Timedelta(days=1)
BASE_FEATURES = [
    "recency_days", "tenure_days", "frequency", "monetary", "avg_order_value",
    "interpurchase_mean_days", "interpurchase_std_days", "return_rate",
    "distinct_products", "distinct_categories",
    "orders_last_90", "orders_prev_90", "spend_last_90", "spend_prev_90", "activity_trend",
]
REVIEW_FEATURES = ["review_count", "review_rating_mean", "review_sentiment_mean"]


@dataclass(frozen=True)
class FeatureConfig:
    trend_days: int = 90


def as_utc(moment) -> pd.Timestamp:
    ts = pd.Timestamp(moment)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def lines_before(lines: pd.DataFrame, snapshot: pd.Timestamp) -> pd.DataFrame:
    mask = lines["customer_id"].notna() & (lines["placed_at"] < snapshot)
    if "product_kind" in lines.columns:
        mask &= lines["product_kind"].ne("fee")
    out = lines.loc[mask]
    return out.assign(customer_id=out["customer_id"].astype("int64"))


def order_table(sales: pd.DataFrame) -> pd.DataFrame:
    """One row per sale order: customer, time and value, sorted by customer then time."""
    orders = sales.groupby("order_id", sort=False).agg(
        customer_id=("customer_id", "first"), placed_at=("placed_at", "min"), value=("amount", "sum")
    )
    return orders.sort_values(["customer_id", "placed_at"], kind="stable").reset_index()


def days_between(later: pd.Series | pd.Timestamp, earlier: pd.Series | pd.Timestamp):
    return (later - earlier) / DAY


def interpurchase_stats(orders: pd.DataFrame) -> pd.DataFrame:
    gaps = days_between(orders["placed_at"], orders.groupby("customer_id")["placed_at"].shift())
    grouped = gaps.groupby(orders["customer_id"])
    return pd.DataFrame({"interpurchase_mean_days": grouped.mean(), "interpurchase_std_days": grouped.std(ddof=0)})


def trend_stats(orders: pd.DataFrame, snapshot: pd.Timestamp, trend_days: int) -> pd.DataFrame:
    window = pd.Timedelta(days=trend_days)
    last = orders["placed_at"] >= snapshot - window
    prev = (orders["placed_at"] >= snapshot - 2 * window) & ~last
    grouped = orders.assign(
        last_n=last.astype("int64"), prev_n=prev.astype("int64"),
        last_v=orders["value"].where(last, 0.0), prev_v=orders["value"].where(prev, 0.0),
    ).groupby("customer_id")
    out = pd.DataFrame({
        "orders_last_90": grouped["last_n"].sum(), "orders_prev_90": grouped["prev_n"].sum(),
        "spend_last_90": grouped["last_v"].sum(), "spend_prev_90": grouped["prev_v"].sum(),
    })
    both = out["spend_last_90"] + out["spend_prev_90"]
    out["activity_trend"] = np.where(both > 0, (out["spend_last_90"] - out["spend_prev_90"]) / both.where(both > 0, 1.0), 0.0)
    return out


def purchase_features(lines: pd.DataFrame, snapshot: pd.Timestamp, config: FeatureConfig) -> pd.DataFrame:
    sales = sale_lines(lines)
    returns = return_lines(lines)
    orders = order_table(sales)
    per = orders.groupby("customer_id")
    out = pd.DataFrame({
        "recency_days": days_between(snapshot, per["placed_at"].max()),
        "tenure_days": days_between(snapshot, per["placed_at"].min()),
        "frequency": per.size().astype("int64"),
        "gross": per["value"].sum(),
    })
    out["monetary"] = out["gross"] + returns.groupby("customer_id")["amount"].sum().reindex(out.index, fill_value=0.0)
    out["avg_order_value"] = out["gross"] / out["frequency"]
    bought = sales.groupby("customer_id")["quantity"].sum()
    returned = -returns.groupby("customer_id")["quantity"].sum().reindex(out.index, fill_value=0)
    out["return_rate"] = (returned / bought.reindex(out.index)).clip(0.0, 1.0)
    out["distinct_products"] = sales.groupby("customer_id")["product_id"].nunique()
    if "category" in sales.columns:
        out["distinct_categories"] = sales.groupby("customer_id")["category"].nunique()
    else:
        out["distinct_categories"] = 0
    out = out.join(interpurchase_stats(orders)).join(trend_stats(orders, snapshot, config.trend_days))
    return out.drop(columns="gross")


def review_features(reviews: pd.DataFrame, snapshot: pd.Timestamp, index: pd.Index) -> pd.DataFrame:
    recent = reviews[reviews["customer_id"].notna() & (reviews["created_at"] < snapshot)]
    recent = recent.assign(customer_id=recent["customer_id"].astype("int64"))
    grouped = recent.groupby("customer_id")
    out = pd.DataFrame(index=index)
    out["review_count"] = grouped.size().reindex(index, fill_value=0).astype("int64")
    out["review_rating_mean"] = grouped["rating"].mean().reindex(index) if "rating" in recent else np.nan
    out["review_sentiment_mean"] = grouped["sentiment"].mean().reindex(index) if "sentiment" in recent else np.nan
    return out


def event_features(events: pd.DataFrame, snapshot: pd.Timestamp, index: pd.Index) -> pd.DataFrame:
    recent = events[events["occurred_at"] < snapshot]
    counts = recent.groupby(["customer_id", "kind"]).size().unstack(fill_value=0)
    counts.columns = [f"events_{kind}" for kind in counts.columns]
    counts = counts.reindex(index, fill_value=0).astype("int64")
    counts["event_count"] = counts.sum(axis=1)
    return counts


def build_customer_features(
    lines: pd.DataFrame,
    *,
    snapshot,
    reviews: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    config: FeatureConfig = FeatureConfig(),
) -> pd.DataFrame:
    """Features of every customer with a sale before `snapshot` (see the module docstring)."""
    snap = as_utc(snapshot)
    usable = lines_before(lines, snap)
    out = purchase_features(usable, snap, config)
    out = out[BASE_FEATURES]
    if reviews is not None:
        out = out.join(review_features(reviews, snap, out.index))
    if events is not None:
        out = out.join(event_features(events, snap, out.index))
    out.index.name = "customer_id"
    return out.sort_index()
