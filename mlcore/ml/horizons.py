"""Time horizons taken from a shop's own purchase cadence instead of one shop's constants.

A customer's usual gap is the median of the days between their consecutive orders; the shop's
cadence is read from the repeat customers' usual gaps:

- churn window: the 75th percentile of the usual gaps, rounded up to whole weeks, 14 to 365 days
  (three in four repeat customers usually come back within it; Online Retail: 98 days, near the
  90 the platform used to hard-code; weekly grocery shoppers: 2-3 weeks);
- BG/NBD time unit: days when the median usual gap is under two weeks, weeks otherwise;
- recommendation exclusion window: half the median usual gap, 1 to 60 days (what a customer just
  bought is not offered again before they would usually order again);
- at-risk threshold: set later from the churn labels (`at_risk_threshold`): the shop's base churn
  rate at the latest training cut-off, 0.2 to 0.8, so "at risk" means more likely to leave than
  the shop's typical customer.

Where fewer than `MIN_REPEAT_CUSTOMERS` customers ever ordered twice (or under
`MIN_REPEAT_SHARE` of them) there is no cadence to read: the defaults serve and `repeat_enough`
is False, which churn, lifetime value and buy-again report as "too little repeat behaviour".
Any value can be fixed in settings (`overrides`); the result says which were derived.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from mlcore.ml.sales import sale_mask

DEFAULTS = {"churn_window_days": 90, "bgnbd_unit_days": 7.0, "exclude_recent_days": 14, "at_risk_probability": 0.5}
MIN_REPEAT_CUSTOMERS = 30
MIN_REPEAT_SHARE = 0.01


@dataclass(frozen=True)
class Horizons:
    churn_window_days: int
    bgnbd_unit_days: float
    exclude_recent_days: int
    at_risk_probability: float
    customers: int
    repeat_customers: int
    repeat_share: float
    median_gap_days: float | None
    gap_p75_days: float | None
    repeat_enough: bool
    derived: tuple[str, ...]  # the values read from the data (the rest: settings or defaults)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["derived"] = list(self.derived)
        return out


def purchase_orders(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order with a sale line (index order_id): customer_id, placed_at."""
    sales = lines.loc[lines["customer_id"].notna() & sale_mask(lines)]
    if "product_kind" in sales.columns:
        sales = sales.loc[sales["product_kind"].ne("fee")]
    return sales.groupby("order_id", sort=False).agg(customer_id=("customer_id", "first"), placed_at=("placed_at", "min"))


def usual_gaps(lines: pd.DataFrame) -> tuple[pd.Series, int]:
    """(each repeat customer's median days between consecutive orders, number of customers)."""
    return order_usual_gaps(purchase_orders(lines))


def order_usual_gaps(orders: pd.DataFrame) -> tuple[pd.Series, int]:
    """`usual_gaps` of the shop's purchase orders (customer_id, placed_at: `purchase_orders`, or read so from the database)."""
    orders = orders.sort_values(["customer_id", "placed_at"], kind="stable")
    gaps = orders.groupby("customer_id", sort=False)["placed_at"].diff().dt.total_seconds() / 86400.0
    orders = orders.assign(gap=gaps)
    # two orders on the same day are one shopping trip, not a cadence of zero days
    per_customer = orders.loc[orders["gap"] > 0.5].groupby("customer_id")["gap"].median()
    return per_customer, int(orders["customer_id"].nunique())


def shop_horizons(lines: pd.DataFrame, overrides: dict | None = None) -> Horizons:
    """Horizons of this shop's lines; a non-None value in `overrides` wins over the derived one."""
    return shop_horizons_of_orders(purchase_orders(lines), overrides)


def shop_horizons_of_orders(orders: pd.DataFrame, overrides: dict | None = None) -> Horizons:
    """`shop_horizons` from the shop's purchase orders (customer_id, placed_at) instead of every line."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    gaps, customers = order_usual_gaps(orders)
    repeat = len(gaps)
    share = repeat / customers if customers else 0.0
    enough = repeat >= MIN_REPEAT_CUSTOMERS and share >= MIN_REPEAT_SHARE
    median = float(gaps.median()) if repeat else None
    p75 = float(gaps.quantile(0.75)) if repeat else None
    derived = dict(DEFAULTS)
    if enough:
        derived["churn_window_days"] = int(np.clip(7 * math.ceil(p75 / 7), 14, 365))
        derived["bgnbd_unit_days"] = 1.0 if median < 14 else 7.0
        derived["exclude_recent_days"] = int(np.clip(round(median / 2), 1, 60))
    names = ("churn_window_days", "bgnbd_unit_days", "exclude_recent_days") if enough else ()
    values = {**derived, **overrides}
    return Horizons(
        churn_window_days=int(values["churn_window_days"]), bgnbd_unit_days=float(values["bgnbd_unit_days"]),
        exclude_recent_days=int(values["exclude_recent_days"]), at_risk_probability=float(values["at_risk_probability"]),
        customers=customers, repeat_customers=repeat, repeat_share=round(share, 6),
        median_gap_days=None if median is None else round(median, 2), gap_p75_days=None if p75 is None else round(p75, 2),
        repeat_enough=enough, derived=tuple(n for n in names if n not in overrides),
    )


def at_risk_threshold(churn_rate: float) -> float:
    """The shop's base churn rate, kept within 0.2-0.8 (see the module doc)."""
    return round(float(np.clip(churn_rate, 0.2, 0.8)), 4)


def too_little_repeat(h: Horizons) -> str:
    return (
        f"too little repeat behaviour to learn from: {h.repeat_customers:,} of {h.customers:,} customers "
        f"({h.repeat_share:.2%}) ever ordered on two different days (at least {MIN_REPEAT_CUSTOMERS} and "
        f"{MIN_REPEAT_SHARE:.0%} are needed)"
    )
