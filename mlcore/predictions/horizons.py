"""The shop's horizons (churn window, BG/NBD unit, exclusion window, at-risk threshold) with the
settings' overrides applied; the derivation itself is `mlcore.ml.horizons`."""
from __future__ import annotations

import pandas as pd
from django.conf import settings

from mlcore.ml.horizons import Horizons, shop_horizons, shop_horizons_of_orders


def horizon_overrides() -> dict:
    return {
        "churn_window_days": settings.CHURN_WINDOW_DAYS, "bgnbd_unit_days": settings.BGNBD_UNIT_DAYS,
        "exclude_recent_days": settings.RECOMMENDER_EXCLUDE_RECENT_DAYS, "at_risk_probability": settings.AT_RISK_PROBABILITY,
    }


def horizons_of(lines: pd.DataFrame) -> Horizons:
    """Horizons of these order lines (the shop's), settings first."""
    return shop_horizons(lines, overrides=horizon_overrides())


def horizons_of_orders(orders: pd.DataFrame) -> Horizons:
    """Horizons of the shop's purchase orders (`customers.selectors.purchase_orders_frame`), settings first."""
    return shop_horizons_of_orders(orders, overrides=horizon_overrides())
