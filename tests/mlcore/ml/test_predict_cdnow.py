"""BG/NBD and Gamma-Gamma on the shipped CDNOW sample reproduce the published parameters."""
import pytest

from mlcore.ml.predictions.bgnbd import expected_purchases, fit_bgnbd
from mlcore.ml.predictions.cdnow import load_sample
from mlcore.ml.predictions.gamma_gamma import fit_gamma_gamma
from tests.conftest import real_data_path

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def sample():
    return load_sample(real_data_path("cdnow/cdnow_customers_summary.csv"), real_data_path("cdnow/CDNOW_master.txt"))


def within(value: float, published: float, tolerance: float = 0.01) -> bool:
    return abs(value - published) <= tolerance * published


def test_bgnbd_reproduces_published_parameters(sample):
    # given the 2,357-customer sample, when BG/NBD is fitted, then r, alpha, a, b are within 1% of the paper
    params = fit_bgnbd(sample["frequency"], sample["recency"], sample["T"])
    assert within(params.r, 0.243) and within(params.alpha, 4.414)
    assert within(params.a, 0.793) and within(params.b, 2.426)


def test_gamma_gamma_reproduces_published_parameters(sample):
    # given the sample's repeat buyers and their mean repeat spend, when fitted, then p, q, gamma are within 1%
    params = fit_gamma_gamma(sample["frequency"], sample["monetary"])
    assert within(params.p, 6.25) and within(params.q, 3.74) and within(params.gamma, 15.44)
    assert int((sample["frequency"] > 0).sum()) == 946


def test_weeks_40_to_78_forecast_is_close_to_actual(sample):
    # given the calibration fit, when the next 39 weeks are forecast, then the cohort total is near the actual repeat purchases
    params = fit_bgnbd(sample["frequency"], sample["recency"], sample["T"])
    predicted = expected_purchases(params, 39.0, sample["frequency"], sample["recency"], sample["T"]).sum()
    actual = sample["holdout_purchases"].sum()
    assert len(sample) == 2357 and 0.8 * actual <= predicted <= 1.1 * actual
