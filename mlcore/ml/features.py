"""Every customer feature, one definition each, at a snapshot date (vectorised, no per-customer loop).

The platform's one feature source is the stored daily snapshot (`mlcore.features`), and every row of
it comes from `customer_features` here: segmentation, churn training (older snapshots as cut-offs),
scoring, the lifetime-value models and the uplift model read those columns, never lines of their own.
`FEATURES` names every column with its definition (docs/features.md is that table).

Input is an order-lines frame shaped like `customers.selectors.order_lines_frame()`:
customer_id, order_id, placed_at (tz-aware), product_id, category, product_kind, quantity,
amount (quantity * unit_price; negative for returns). Only lines placed strictly before the
snapshot are used, so a snapshot is point-in-time correct. Fees (product_kind == "fee") and
guest lines (no customer_id) are left out. Customers are those with at least one sale before
the snapshot. Reviews (customer_id, created_at, rating, sentiment) and customer events
(customer_id, kind, occurred_at) are cut at the snapshot the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.ml.sales import net as net_lines
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
    """What a snapshot's columns depend on besides the data: stored with it, part of its identity."""

    trend_days: int = 90  # the last / previous window of orders_last_90 .. activity_trend
    window_days: int = 90  # the shop's churn window: the cadence hazard and last year's same window look this far ahead
    recent_days: int = 90  # reviews and support contacts of the last this many days

    @property
    def key(self) -> str:
        return f"trend{self.trend_days}-window{self.window_days}-recent{self.recent_days}"

    def as_dict(self) -> dict:
        return {"trend_days": self.trend_days, "window_days": self.window_days, "recent_days": self.recent_days}

    @classmethod
    def of_dict(cls, values: dict) -> FeatureConfig:
        """The definition in `values` (a snapshot's params, a churn model's config): its three fields where
        present, the defaults where absent, every other key ignored."""
        return cls(**{name: int(values[name]) for name in ("trend_days", "window_days", "recent_days") if name in values})


@dataclass(frozen=True)
class FeatureContext:
    """The shop-level part of a snapshot, computed once over every customer and handed to each shard.

    Every other feature is the customer's own: given the same context, the lines of a customer-id
    range give exactly that range's rows of the whole shop's frame. Stored in the snapshot's params.
    """

    vocabulary: tuple[str, ...] = ()  # basket_share_1..8: the shop's largest categories by sales
    categories: tuple[str, ...] = ()  # every category sold ("" for none), ascending: the basket sums' columns
    gap_days: tuple[float, ...] = ()  # the shop's gaps between a customer's consecutive order days (distinct, ascending)
    gap_counts: tuple[int, ...] = ()  # how many gaps of each

    def as_dict(self) -> dict:
        return {"basket_vocabulary": list(self.vocabulary), "categories": list(self.categories),
                "gap_days": list(self.gap_days), "gap_counts": list(self.gap_counts)}

    @classmethod
    def of_dict(cls, params: dict) -> FeatureContext:
        return cls(tuple(params.get("basket_vocabulary", ())), tuple(params.get("categories", ())),
                   tuple(float(v) for v in params.get("gap_days", ())), tuple(int(c) for c in params.get("gap_counts", ())))

    @property
    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.gap_days, dtype="float64"), np.asarray(self.gap_counts, dtype="int64")


def feature_context_of(*, category_sales: pd.Series, days: pd.DataFrame) -> FeatureContext:
    """The context from the shop's sales per category and its (customer_id, day) order days, sorted by both."""
    from mlcore.ml.churn_signals import gap_histogram, vocabulary_of

    values, counts = gap_histogram(days)
    categories = sorted(str(c) for c in category_sales.index)
    return FeatureContext(tuple(vocabulary_of(category_sales)), tuple(categories), tuple(values.tolist()), tuple(counts.tolist()))


def feature_context(lines: pd.DataFrame, *, snapshot) -> FeatureContext:
    """The shop-level context of every customer's `lines` before `snapshot` (the one-read path)."""
    from mlcore.ml.churn_signals import category_sales, order_days

    sales = sale_lines(lines_before(lines, as_utc(snapshot)))
    return feature_context_of(category_sales=category_sales(sales), days=order_days(sales))


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


# --- every stored feature: the one definition of each (docs/features.md is this table) -----------
FEATURES = {
    "recency_days": "days from the customer's last sale order to the snapshot",
    "tenure_days": "days from the customer's first sale order to the snapshot",
    "frequency": "distinct sale orders",
    "monetary": "net spend: sales plus returns and cancellations (negative lines), fees left out",
    "avg_order_value": "gross sales / sale orders",
    "interpurchase_mean_days": "mean days between consecutive sale orders (empty with one order)",
    "interpurchase_std_days": "standard deviation of those gaps",
    "return_rate": "returned units / bought units, 0-1",
    "distinct_products": "distinct products bought",
    "distinct_categories": "distinct categories bought",
    "orders_last_90": "sale orders in the last trend_days (90) before the snapshot",
    "orders_prev_90": "sale orders in the trend_days before those",
    "spend_last_90": "gross sales of the last trend_days",
    "spend_prev_90": "gross sales of the trend_days before those",
    "activity_trend": "(spend_last_90 - spend_prev_90) / their sum, -1..1 (0 when both are 0)",
    "review_count": "reviews written before the snapshot",
    "review_rating_mean": "mean star rating of those reviews",
    "review_sentiment_mean": "mean sentiment score (-1..1) of those reviews that were scored",
    "event_count": "customer events (any kind) before the snapshot",
    "overdue_ratio": "recency_days / interpurchase_mean_days: how late against the customer's own mean gap",
    "cadence_hazard": "P(an order in the next window_days, given the days since the last order day), from the customer's own gaps "
                      "between order days shrunk towards the shop's (two pseudo-gaps)",
    "overdue_z": "log(1 + days since the last order day) against the customer's usual log-gap, in shop standard deviations",
    "orders_same_window_last_year": "order days in [snapshot - 365 days, + window_days) (empty if the customer started after it)",
    "spend_same_window_last_year": "sales in that window a year earlier",
    **{f"basket_share_{i}": f"share of gross spend in the shop's {i}{'st' if i == 1 else 'nd' if i == 2 else 'rd' if i == 3 else 'th'} "
                            "largest category by sales before the snapshot (the snapshot's vocabulary)" for i in range(1, 9)},
    "basket_share_other": "share of gross spend outside those eight categories",
    "basket_concentration": "sum of squared category shares (1 = one category only)",
    "return_value_share": "returned value / gross spend, 0-1",
    "returned_order_share": "orders with a return or cancellation / sale orders, 0-1",
    "reviews_recent": "reviews of the last recent_days (90)",
    "review_rating_recent": "mean rating of those",
    "review_sentiment_recent": "mean sentiment score of those",
    "reviews_negative_recent": "those with rating <= 2 or a negative sentiment score",
    "support_contacts_recent": "support conversations of the last recent_days (customer events 'support')",
    "support_negative_recent": "negative support messages of the last recent_days (events 'support_neg')",
    "repeat_purchase_days": "purchase days after the first (BG/NBD frequency): days with a positive net spend",
    "repeat_span_days": "days from the first to the last purchase day (BG/NBD recency, in days)",
    "age_days": "days from the first purchase day to the snapshot's day (BG/NBD T, in days)",
    "repeat_day_value_mean": "mean net spend of the repeat purchase days, returns filed later scaled in (Gamma-Gamma monetary)",
    "net_spend_365": "net spend of the last 365 days (the past-spend value baseline)",
}
STORED_FEATURES = list(FEATURES)
LIFETIME_SUMMARY = {"repeat_purchase_days": "frequency", "repeat_span_days": "recency", "age_days": "T", "repeat_day_value_mean": "monetary"}


def add_derived(features: pd.DataFrame) -> pd.DataFrame:
    gap = features["interpurchase_mean_days"]
    return features.assign(overdue_ratio=features["recency_days"] / gap.where(gap > 0))


def value_features(lines: pd.DataFrame, snap: pd.Timestamp, index: pd.Index) -> pd.DataFrame:
    """The lifetime models' per-customer summary in days and the last year's net spend."""
    from mlcore.ml.predictions.bgnbd import rfm_summary

    summary = rfm_summary(lines, snapshot=snap, unit_days=1.0).rename(columns={v: k for k, v in LIFETIME_SUMMARY.items()})
    last_year = net_lines(lines.loc[lines["placed_at"] >= snap - pd.Timedelta(days=365)]).groupby("customer_id")["amount"].sum()
    return summary.reindex(index).assign(net_spend_365=last_year.reindex(index, fill_value=0.0).astype("float64"))


def customer_features(
    lines: pd.DataFrame, *, snapshot, reviews: pd.DataFrame | None = None, events: pd.DataFrame | None = None,
    config: FeatureConfig = FeatureConfig(), context: FeatureContext | None = None,
) -> pd.DataFrame:
    """Every FEATURES column of every customer with a sale before `snapshot` (index customer_id).

    With the shop's `context` (`feature_context` of every customer's lines), `lines`, `reviews` and
    `events` may be those of a customer-id range only: the rows are that range's rows of the whole
    shop's frame (a shard). Without it, the context of `lines`.
    frame.attrs["basket_vocabulary"] holds the categories of basket_share_1.. (the shop's largest before the snapshot).
    """
    from mlcore.ml.churn_signals import signal_features

    snap = as_utc(snapshot)
    usable = lines_before(lines, snap)
    context = context if context is not None else feature_context(usable, snapshot=snap)
    out = build_customer_features(usable, snapshot=snap, config=config)
    reviews = reviews if reviews is not None else pd.DataFrame(columns=["customer_id", "created_at", "rating", "sentiment"])
    events = events if events is not None else pd.DataFrame(columns=["customer_id", "kind", "occurred_at"])
    out = out.join(review_features(reviews.astype({"rating": "float64", "sentiment": "float64"}), snap, out.index))
    before = events.loc[events["customer_id"].notna() & (pd.to_datetime(events["occurred_at"], utc=True) < snap)]
    out["event_count"] = before.groupby(before["customer_id"].astype("int64")).size().reindex(out.index, fill_value=0)
    vocabulary = list(context.vocabulary)
    signals = signal_features(usable, snap, window_days=config.window_days, vocabulary=vocabulary, reviews=reviews, events=events,
                              recent_days=config.recent_days, histogram=context.histogram, categories=list(context.categories))
    out = add_derived(out).join(signals).join(value_features(usable, snap, out.index))
    out = out[STORED_FEATURES].astype("float64")
    out.attrs["basket_vocabulary"] = vocabulary
    return out


def lifetime_summary(features: pd.DataFrame, *, unit_days: float) -> pd.DataFrame:
    """BG/NBD's frequency, recency, T (in units of unit_days) and Gamma-Gamma's monetary, from the
    stored summary columns (customers without a purchase day are left out, as rfm_summary does)."""
    days = features[list(LIFETIME_SUMMARY)].dropna()
    return pd.DataFrame({
        "frequency": days["repeat_purchase_days"], "recency": days["repeat_span_days"] / unit_days,
        "T": days["age_days"] / unit_days, "monetary": days["repeat_day_value_mean"],
    }, index=days.index.astype("int64"))
