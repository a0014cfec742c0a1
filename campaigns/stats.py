"""Statistics of campaign results: uplift against the holdout with 95% confidence intervals and
the A/B significance test of variants, with an explicit 'too small to tell' verdict.

Pure functions of counts and value lists (no Django), checked against known answers.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

_NORMAL = NormalDist()


def z_for(confidence: float) -> float:
    return _NORMAL.inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return asdict(self)


def diff_proportions_ci(x1: int, n1: int, x0: int, n0: int, confidence: float = 0.95) -> Interval | None:
    """p1 - p0 with a Wald interval (unpooled standard error); None without both samples."""
    if n1 == 0 or n0 == 0:
        return None
    p1, p0 = x1 / n1, x0 / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    z = z_for(confidence)
    return Interval(p1 - p0, p1 - p0 - z * se, p1 - p0 + z * se)


def diff_means_ci(values1: list[float], values0: list[float], confidence: float = 0.95) -> Interval | None:
    """mean1 - mean0 with a Welch (unequal variance) normal interval; None under 2 values a side."""
    n1, n0 = len(values1), len(values0)
    if n1 < 2 or n0 < 2:
        return None
    m1, m0 = sum(values1) / n1, sum(values0) / n0
    v1 = sum((v - m1) ** 2 for v in values1) / (n1 - 1)
    v0 = sum((v - m0) ** 2 for v in values0) / (n0 - 1)
    se = math.sqrt(v1 / n1 + v0 / n0)
    z = z_for(confidence)
    return Interval(m1 - m0, m1 - m0 - z * se, m1 - m0 + z * se)


def two_proportion_ztest(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Pooled two-sided z-test of p1 == p2; returns (z, p-value)."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / se
    return z, 2 * (1 - _NORMAL.cdf(abs(z)))


def minimum_detectable_effect(p: float, n1: int, n2: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest absolute difference the samples would detect with this power."""
    return (z_for(1 - alpha) + _NORMAL.inv_cdf(power)) * math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


def ab_test(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05, min_effect: float = 0.01) -> dict:
    """Compare two variants' rates. Verdicts: too_small_to_tell, significant, no_meaningful_difference.

    Too small to tell: under 30 per arm, fewer than 5 expected successes or failures in an arm,
    or not significant while the samples could not even detect `min_effect` (absolute) at 80%.
    """
    result = {"n1": n1, "x1": x1, "n2": n2, "x2": x2, "z": None, "p_value": None, "mde": None}
    pooled = (x1 + x2) / (n1 + n2) if n1 + n2 else 0.0
    expected = [n * pooled for n in (n1, n2)] + [n * (1 - pooled) for n in (n1, n2)]
    if min(n1, n2) < 30 or min(expected) < 5:
        return {**result, "verdict": "too_small_to_tell", "reason": "under 30 per arm or fewer than 5 expected events in an arm"}
    z, p_value = two_proportion_ztest(x1, n1, x2, n2)
    mde = minimum_detectable_effect(pooled, n1, n2, alpha)
    result.update(z=z, p_value=p_value, mde=mde)
    if p_value < alpha:
        return {**result, "verdict": "significant", "reason": f"p = {p_value:.4f} < {alpha}"}
    if mde > min_effect:
        return {**result, "verdict": "too_small_to_tell", "reason": f"not significant, and only differences above {mde:.2%} were detectable"}
    return {**result, "verdict": "no_meaningful_difference", "reason": f"p = {p_value:.4f}; differences above {mde:.2%} would have shown"}
