"""A reason in words for every churn score, from per-customer feature contributions.

A group's contribution is, by default, the change in predicted churn probability when the
customer's values of that group of features are replaced by the training population's medians
(one batched prediction per group, vectorised over customers); a gradient-boosted model offers
its exact decision-path contributions instead (`mlcore.ml.predictions.tree_paths`), which cost about
one prediction pass in all. The reason names the groups that pushed the
score the most in its direction (up for risk >= 0.5, down otherwise), in the words of the
customer's own figures: "churn risk 0.82: 94 days since the last order where this customer
usually orders every 30; spend down 60% on the previous quarter".
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

FEATURE_GROUPS: dict[str, list[str]] = {
    "recency": ["recency_days", "overdue_ratio", "cadence_hazard", "overdue_z"],
    "season": ["orders_same_window_last_year", "spend_same_window_last_year"],
    "trend": ["orders_last_90", "orders_prev_90", "spend_last_90", "spend_prev_90", "activity_trend"],
    "frequency": ["frequency", "interpurchase_mean_days", "interpurchase_std_days"],
    "value": ["monetary", "avg_order_value"],
    "tenure": ["tenure_days"],
    "returns": ["return_rate", "return_value_share", "returned_order_share"],
    "variety": ["distinct_products", "distinct_categories"],
    "basket": [f"basket_share_{i}" for i in range(1, 9)] + ["basket_share_other", "basket_concentration"],
    "reviews": ["reviews_recent", "review_rating_recent", "review_sentiment_recent", "reviews_negative_recent"],
    "support": ["support_contacts_recent", "support_negative_recent"],
}


def group_contributions(
    predict: Callable[[pd.DataFrame], np.ndarray], features: pd.DataFrame, medians: dict, base: np.ndarray | None = None
) -> pd.DataFrame:
    """p(x) - p(x with the group at the medians), one column per feature group present."""
    base = predict(features) if base is None else base
    out = {}
    for group, names in FEATURE_GROUPS.items():
        present = [n for n in names if n in features.columns and n in medians]
        if present:
            out[group] = base - predict(features.assign(**{n: medians[n] for n in present}))
    return pd.DataFrame(out, index=features.index)


def whole(values: pd.Series) -> pd.Series:
    return values.round().astype("int64").astype(str)


def phrase_recency(f: pd.DataFrame) -> pd.Series:
    days = whole(f["recency_days"].clip(lower=0))
    usual = f["interpurchase_mean_days"]
    with_usual = days + " days since the last order where this customer usually orders every " + whole(usual.fillna(0).clip(lower=1))
    return pd.Series(np.where(usual.notna(), with_usual, days + " days since the only order"), index=f.index)


def phrase_trend(f: pd.DataFrame) -> pd.Series:
    last, prev = f["spend_last_90"], f["spend_prev_90"]
    change = ((last - prev) / prev.where(prev > 0)).fillna(0.0)
    percent = whole((change.abs() * 100).clip(upper=999))
    moved = np.where(change < 0, "spend down " + percent + "% on the previous quarter", "spend up " + percent + "% on the previous quarter")
    text = np.where(prev > 0, moved, np.where(last > 0, "new spend this quarter after none in the previous one", "no orders in the last six months"))
    return pd.Series(text, index=f.index)


def phrase_frequency(f: pd.DataFrame) -> pd.Series:
    n = f["frequency"].fillna(0)
    return pd.Series(np.where(n == 1, "one order so far", whole(n) + " orders so far"), index=f.index)


def column(f: pd.DataFrame, name: str, fill: float = 0.0) -> pd.Series:
    return f[name].fillna(fill) if name in f.columns else pd.Series(fill, index=f.index)


def phrase_season(f: pd.DataFrame) -> pd.Series:
    n = column(f, "orders_same_window_last_year", np.nan)
    text = np.where(n.isna(), "not yet a customer in these months last year",
                    np.where(n == 0, "no orders in these months last year", whole(n.fillna(0)) + " order(s) in these months last year"))
    return pd.Series(text, index=f.index)


def phrase_reviews(f: pd.DataFrame) -> pd.Series:
    n, negative = column(f, "reviews_recent"), column(f, "reviews_negative_recent")
    text = np.where(n == 0, "no recent reviews", whole(n) + " recent review(s), " + whole(negative) + " negative")
    return pd.Series(text, index=f.index)


def phrase_support(f: pd.DataFrame) -> pd.Series:
    n, negative = column(f, "support_contacts_recent"), column(f, "support_negative_recent")
    text = np.where(n + negative == 0, "no recent support contacts", whole(n) + " recent support contact(s), " + whole(negative) + " negative")
    return pd.Series(text, index=f.index)


def phrase_basket(f: pd.DataFrame) -> pd.Series:
    top = f[[c for c in f.columns if c.startswith("basket_share_") and c != "basket_share_other"]].max(axis=1) if "basket_share_1" in f else pd.Series(0.0, index=f.index)
    return "largest product type " + whole(top.fillna(0) * 100) + "% of spend"


PHRASES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "recency": phrase_recency,
    "trend": phrase_trend,
    "frequency": phrase_frequency,
    "value": lambda f: whole(f["monetary"].fillna(0)) + " spent in total (net of returns)",
    "tenure": lambda f: "a customer for " + whole(f["tenure_days"].fillna(0)) + " days",
    "returns": lambda f: whole(f["return_rate"].fillna(0) * 100) + "% of items returned",
    "season": phrase_season,
    "basket": phrase_basket,
    "reviews": phrase_reviews,
    "support": phrase_support,
    "variety": lambda f: whole(f["distinct_products"].fillna(0)) + " different products bought",
}


def top_groups(contributions: pd.DataFrame, probability: np.ndarray, *, top: int = 2, single_order=None) -> np.ndarray:
    """Indices of the `top` groups pushing each score in its own direction (n x top).

    For one-order customers the recency phrase already says "the only order", so the frequency
    group is not cited beside it.
    """
    signed = contributions.to_numpy() * np.where(probability >= 0.5, 1.0, -1.0)[:, None]
    columns = list(contributions.columns)
    if single_order is not None and "frequency" in columns and "recency" in columns:
        signed[np.asarray(single_order, dtype=bool), columns.index("frequency")] = -np.inf
    return np.argsort(-signed, axis=1, kind="stable")[:, :top]


def group_projection(features: list[str]) -> tuple[list[str], np.ndarray]:
    """(group names, features x groups 0/1 matrix) for the groups present among `features`."""
    groups = [g for g, names in FEATURE_GROUPS.items() if any(n in features for n in names)]
    matrix = np.zeros((len(features), len(groups)))
    for column, group in enumerate(groups):
        for name in FEATURE_GROUPS[group]:
            if name in features:
                matrix[features.index(name), column] = 1.0
    return groups, matrix


def reasons_frame(
    predict: Callable[[pd.DataFrame], np.ndarray], features: pd.DataFrame, medians: dict, *, top: int = 2,
    contributions: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Per customer: probability, reason text and the names of the groups it cites.

    `contributions` (features -> one column per group, larger = more risk) replaces the
    median-substitution contributions when the model offers a faster exact one (tree paths).
    """
    probability = predict(features)
    if contributions is None:
        contributions = group_contributions(predict, features, medians, base=probability)
    else:
        contributions = contributions(features)
    groups = np.asarray(contributions.columns)
    single = features["frequency"].eq(1).to_numpy() if "frequency" in features.columns else None
    chosen = top_groups(contributions, probability, top=top, single_order=single)
    parts = []
    for rank in range(chosen.shape[1]):
        part = pd.Series("", index=features.index, dtype=object)
        for g_index, group in enumerate(groups):
            mask = chosen[:, rank] == g_index
            if mask.any():
                part[mask] = PHRASES[group](features.loc[mask]).to_numpy()
        parts.append(part)
    head = pd.Series(np.char.mod("churn risk %.2f: ", probability), index=features.index)
    text = head + parts[0].str.cat(parts[1:], sep="; ") if len(parts) > 1 else head + parts[0]
    names = pd.Series([",".join(row) for row in groups[chosen]], index=features.index)
    return pd.DataFrame({"probability": probability, "reason": text, "groups": names})
