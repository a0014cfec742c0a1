import numpy as np
import pytest

from mlcore.ml.uplift import UpliftConfig, bootstrap_qini, qini_coefficient, qini_curve, qini_points, uplift_model


def test_qini_curve_on_a_tiny_known_case():
    # given 4 customers (treated converts, control does not, ranked first), when the curve is built, then the hand-computed values
    score = np.array([4, 3, 2, 1])
    t = np.array([1, 0, 1, 0])
    y = np.array([1, 0, 0, 1])
    x, q = qini_curve(score, t, y)
    # k=1: Yt=1, no control -> 1; k=2: 1 - 0*1/1 = 1; k=3: 1 - 0*2/1 = 1; k=4: 1 - 1*2/2 = 0
    assert x.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert q.tolist() == [0, 0.25, 0.25, 0.25, 0.0]
    # area under q (trapezoids of width 1/4): (0+.25)/2/4 + .25/4 + .25/4 + (.25+0)/2/4 = 0.1875; the random line ends at 0
    assert qini_coefficient(score, t, y) == pytest.approx(0.1875)
    assert qini_coefficient(-score, t, y) < 0  # the reverse ranking is worse than random


def test_qini_of_a_random_score_is_near_zero():
    # given outcomes unrelated to a random score, when scored, then the coefficient is about 0
    rng = np.random.default_rng(0)
    t, y = rng.integers(0, 2, 20000), rng.integers(0, 2, 20000)
    assert abs(qini_coefficient(rng.random(20000), t, y)) < 0.01
    points = qini_points(rng.random(20000), t, y, points=5)
    assert [p["fraction"] for p in points] == [0, 0.25, 0.5, 0.75, 1.0]


def _planted(n: int, seed: int):
    """Baseline 20%; the mail adds +30 points where x0 > 0 and removes 10 points where x0 <= 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    tau = np.where(x[:, 0] > 0, 0.3, -0.1)
    t = rng.integers(0, 2, n)
    p = 0.2 + 0.1 * np.tanh(x[:, 1]) + t * tau
    return x, t, (rng.random(n) < p).astype(int), tau


@pytest.mark.parametrize("learner", ["t", "x"])
def test_learners_recover_a_planted_effect(learner):
    # given a planted effect that depends on x0, when a learner is fit on one sample, then on another it ranks by it
    x, t, y, _ = _planted(8000, 1)
    x2, t2, y2, tau2 = _planted(8000, 2)
    model = uplift_model(UpliftConfig(learner=learner, max_iter=60)).fit(x, t, y)
    estimate = model.predict(x2)
    assert np.corrcoef(estimate, tau2)[0, 1] > 0.7
    assert estimate[tau2 > 0].mean() == pytest.approx(0.3, abs=0.08)
    assert qini_coefficient(estimate, t2, y2) > qini_coefficient(np.random.default_rng(3).random(8000), t2, y2) + 0.01


def test_training_refuses_a_group_without_both_outcomes():
    # given a control group where nobody converted, when fitting, then a clear error
    x = np.zeros((10, 2))
    with pytest.raises(ValueError, match="control"):
        uplift_model().fit(x, np.array([1] * 5 + [0] * 5), np.array([1, 0, 1, 0, 1, 0, 0, 0, 0, 0]))


def test_bootstrap_interval_brackets_the_estimate():
    # given a planted effect, when bootstrapped, then low <= estimate <= high
    x, t, y, tau = _planted(3000, 4)
    est, low, high = bootstrap_qini(tau, t, y, reps=50, seed=1)
    assert low <= est <= high
