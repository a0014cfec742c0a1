"""BG/NBD and Gamma-Gamma on small seeded data: weights, conditional expectations, summaries, CLV."""
import numpy as np
import pandas as pd
import pytest

from mlcore.ml.predictions.bgnbd import (
    BgNbdParams,
    expected_purchases,
    expected_purchases_new,
    fit_bgnbd,
    probability_alive,
    rfm_summary,
)
from mlcore.ml.predictions.gamma_gamma import GammaGammaParams, customer_lifetime_value, expected_spend

PARAMS = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def simulated(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.poisson(1.0, n) * (rng.random(n) < 0.5)
    T = np.round(rng.uniform(27, 39, n), 0)
    t_x = np.where(x > 0, np.round(rng.uniform(0, 1, n) * T, 0), 0.0)
    return pd.DataFrame({"x": x, "t_x": t_x, "T": T})


def test_collapsed_rows_fit_like_the_full_data():
    # given data with many identical rows, when fitted, then collapsing gives the same result as duplicating by hand
    data = simulated()
    doubled = pd.concat([data, data])
    once, twice = fit_bgnbd(data.x, data.t_x, data["T"]), fit_bgnbd(doubled.x, doubled.t_x, doubled["T"])
    assert np.allclose([once.r, once.alpha, once.a, once.b], [twice.r, twice.alpha, twice.a, twice.b], rtol=1e-4)


def test_fit_refuses_recency_beyond_age():
    # given a row whose recency exceeds T, when fitted, then the error says what is wrong
    with pytest.raises(ValueError, match="recency <= T"):
        fit_bgnbd([1], [5.0], [3.0])


def test_no_repeat_means_alive_and_long_silence_means_likely_gone():
    # given a one-time buyer and a lapsed frequent buyer, then P(alive) is 1 and low respectively
    alive = probability_alive(PARAMS, [0, 10], [0.0, 2.0], [30.0, 30.0])
    assert alive[0] == 1.0 and alive[1] < 0.05


def test_expected_purchases_grow_with_the_horizon_and_match_the_new_customer_curve():
    # given a frequent recent buyer, when the horizon grows, then expected purchases grow; a new customer (x=0, T=0) matches E[X(t)]
    e = [expected_purchases(PARAMS, t, [5], [30.0], [31.0])[0] for t in (4, 13, 52)]
    assert e[0] < e[1] < e[2]
    assert np.isclose(expected_purchases(PARAMS, 10.0, [0], [0.0], [0.0])[0], expected_purchases_new(PARAMS, 10.0), rtol=1e-6)


def test_summary_counts_days_once_and_ignores_the_future():
    # given two orders on one day, one later and one after the snapshot, then frequency 1 and the late one ignored
    t = pd.Timestamp("2011-01-01", tz="UTC")
    lines = pd.DataFrame({
        "customer_id": [1, 1, 1, 1], "quantity": [1, 1, 1, 1], "amount": [10.0, 5.0, 20.0, 99.0],
        "placed_at": [t, t + pd.Timedelta(hours=2), t + pd.Timedelta(days=14), t + pd.Timedelta(days=40)],
    })
    summary = rfm_summary(lines, snapshot=t + pd.Timedelta(days=28))
    assert summary.loc[1].tolist() == [1.0, 2.0, 4.0, 20.0]


def test_clv_is_discounted_and_uses_population_spend_without_repeats():
    # given a higher discount rate, then value falls; a one-time buyer gets the population mean spend
    gg = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    low = customer_lifetime_value(PARAMS, gg, [3], [20.0], [30.0], [40.0], annual_discount_rate=0.0)
    high = customer_lifetime_value(PARAMS, gg, [3], [20.0], [30.0], [40.0], annual_discount_rate=0.5)
    assert 0 < high[0] < low[0]
    assert np.isclose(expected_spend(gg, [0], [0.0])[0], 6.25 * 15.44 / 2.74)
