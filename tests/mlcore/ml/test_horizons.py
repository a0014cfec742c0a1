import pandas as pd

from mlcore.ml.horizons import at_risk_threshold, shop_horizons, too_little_repeat

START = pd.Timestamp("2026-01-01", tz="UTC")


def cadence_lines(gap_days: int, customers: int = 60, orders: int = 8, once: int = 0) -> pd.DataFrame:
    rows = [(f"O{c}-{k}", c, START + pd.Timedelta(days=gap_days * k + c % 3)) for c in range(customers) for k in range(orders)]
    rows += [(f"X{c}", 10_000 + c, START) for c in range(once)]
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "placed_at"])
    return frame.assign(quantity=1, product_kind="product")


def test_weekly_shoppers_get_a_short_churn_window_and_a_daily_unit():
    # given customers who order every 7 days, when horizons are derived, then the window is weeks, not 90 days, and BG/NBD counts days
    h = shop_horizons(cadence_lines(7))
    assert h.repeat_enough and h.median_gap_days == 7.0
    assert h.churn_window_days == 14 and h.bgnbd_unit_days == 1.0 and h.exclude_recent_days == 4


def test_monthly_shoppers_get_a_window_of_whole_weeks_and_a_weekly_unit():
    # given customers who order every 45 days, when horizons are derived, then the window is 49 days and the unit a week
    h = shop_horizons(cadence_lines(45))
    assert (h.churn_window_days, h.bgnbd_unit_days, h.exclude_recent_days) == (49, 7.0, 22)
    assert set(h.derived) == {"churn_window_days", "bgnbd_unit_days", "exclude_recent_days"}


def test_settings_override_derived_values():
    # given a churn window set in settings, when horizons are derived, then the setting wins and is not called derived
    h = shop_horizons(cadence_lines(7), overrides={"churn_window_days": 30, "bgnbd_unit_days": None})
    assert h.churn_window_days == 30 and "churn_window_days" not in h.derived and h.bgnbd_unit_days == 1.0


def test_a_shop_without_repeat_customers_says_so_and_keeps_the_defaults():
    # given 20 repeat customers among 3,000, when horizons are derived, then they are not enough and the message says why
    h = shop_horizons(cadence_lines(30, customers=20, once=2_980))
    assert not h.repeat_enough and h.churn_window_days == 90 and h.derived == ()
    assert "too little repeat behaviour" in too_little_repeat(h) and "20 of 3,000" in too_little_repeat(h)


def test_at_risk_threshold_follows_the_base_rate_within_bounds():
    # given base churn rates, when the threshold is set, then it is the rate kept within 0.2-0.8
    assert [at_risk_threshold(r) for r in (0.05, 0.43, 0.97)] == [0.2, 0.43, 0.8]


def test_the_horizons_of_the_purchase_orders_are_the_horizons_of_the_lines():
    # given a generated shop, when its horizons are read from its purchase orders instead of its lines, then they are the same
    from mlcore.ml.horizons import purchase_orders, shop_horizons_of_orders
    from mlcore.ml.synthetic import SyntheticConfig, generate_order_lines

    lines = generate_order_lines(SyntheticConfig(n_customers=800, n_products=50, seed=4))
    assert shop_horizons_of_orders(purchase_orders(lines)) == shop_horizons(lines)
