"""Uplift and significance calculations on cases with known answers."""
from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from campaigns import stats


def test_difference_of_proportions_interval_matches_hand_computation():
    # given 200/1000 vs 150/1000, when the 95% interval is computed, then it is 0.05 +- 1.95996 * sqrt(.2*.8/1000 + .15*.85/1000)
    interval = stats.diff_proportions_ci(200, 1000, 150, 1000)
    half = 1.959964 * math.sqrt(0.2 * 0.8 / 1000 + 0.15 * 0.85 / 1000)
    assert interval.estimate == pytest.approx(0.05)
    assert interval.low == pytest.approx(0.05 - half, abs=1e-6)
    assert interval.high == pytest.approx(0.05 + half, abs=1e-6)
    assert interval.low > 0  # the uplift is significant here


def test_difference_of_means_interval_matches_scipy_welch_standard_error():
    # given two revenue samples, when the Welch interval is computed, then its half width equals 1.96 * scipy's Welch standard error
    a = [0, 0, 10, 20, 0, 35, 0, 5, 0, 12] * 10
    b = [0, 0, 0, 10, 0, 5, 0, 0, 0, 8] * 10
    interval = stats.diff_means_ci(a, b)
    se = math.sqrt(scipy_stats.tvar(a) / len(a) + scipy_stats.tvar(b) / len(b))
    assert interval.estimate == pytest.approx(sum(a) / 100 - sum(b) / 100)
    assert interval.high - interval.estimate == pytest.approx(1.959964 * se, rel=1e-5)


def test_two_proportion_ztest_known_value():
    # given 120/1000 vs 90/1000, when tested, then z = 2.188 and p = 0.0287 (pooled test, as in textbooks and statsmodels)
    z, p = stats.two_proportion_ztest(120, 1000, 90, 1000)
    pooled = 210 / 2000
    expected_z = 0.03 / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert z == pytest.approx(expected_z)
    assert p == pytest.approx(2 * scipy_stats.norm.sf(expected_z))
    assert (round(z, 3), round(p, 4)) == (2.188, 0.0287)


def test_ab_verdicts_significant_no_difference_and_too_small():
    # given a large clear difference, a large null difference, and a tiny sample, when compared, then the verdicts are significant, no meaningful difference and too small to tell
    assert stats.ab_test(600, 5000, 450, 5000)["verdict"] == "significant"
    assert stats.ab_test(5000, 50000, 5010, 50000)["verdict"] == "no_meaningful_difference"
    assert stats.ab_test(3, 20, 1, 20)["verdict"] == "too_small_to_tell"
    underpowered = stats.ab_test(12, 100, 10, 100)
    assert underpowered["verdict"] == "too_small_to_tell" and underpowered["mde"] > 0.01


def test_intervals_need_both_samples():
    # given an empty arm, when intervals are asked for, then there is none
    assert stats.diff_proportions_ci(1, 10, 0, 0) is None
    assert stats.diff_means_ci([1.0], [1.0, 2.0]) is None
