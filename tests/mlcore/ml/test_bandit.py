import numpy as np

from mlcore.ml.bandit import ArmCounts, plan_wave, wave_sizes


def test_first_wave_splits_evenly():
    # given no history, when the first wave of 10 is planned for three variants, then 4/3/3
    plan, picks = plan_wave([ArmCounts("A", 0, 0), ArmCounts("B", 0, 0), ArmCounts("C", 0, 0)], 10, wave=1, seed=5, min_sample=10)
    assert plan.counts == {"A": 4, "B": 3, "C": 3} and not plan.adaptive and len(picks) == 10


def test_no_shift_before_every_variant_has_the_minimum_sample():
    # given B far better but A with only 99 of 100 required recipients, when wave 2 is planned, then still even
    arms = [ArmCounts("A", 99, 1), ArmCounts("B", 400, 200)]
    plan, _ = plan_wave(arms, 1000, wave=2, seed=1, min_sample=100)
    assert plan.counts == {"A": 500, "B": 500} and "A below the minimum sample" in plan.reason


def test_thompson_shifts_toward_the_better_variant_and_is_seed_deterministic():
    # given B clicks 10% against A's 2% over 500 each, when wave 2 is planned twice with one seed, then the same picks, mostly B
    arms = [ArmCounts("A", 500, 10), ArmCounts("B", 500, 50)]
    plan1, picks1 = plan_wave(arms, 1000, wave=2, seed=42, min_sample=100)
    plan2, picks2 = plan_wave(arms, 1000, wave=2, seed=42, min_sample=100)
    assert np.array_equal(picks1, picks2) and plan1 == plan2
    assert plan1.adaptive and plan1.counts["B"] > 950 and plan1.prob_best["B"] > 0.99


def test_equal_variants_keep_a_mixed_allocation():
    # given two variants with identical results, when Thompson plans a wave, then both keep a large share
    arms = [ArmCounts("A", 300, 30), ArmCounts("B", 300, 30)]
    plan, picks = plan_wave(arms, 2000, wave=2, seed=3, min_sample=100)
    assert 0.35 < plan.shares["A"] < 0.65
    _, other = plan_wave(arms, 2000, wave=3, seed=3, min_sample=100)
    assert not np.array_equal(picks, other)  # another wave draws anew


def test_adaptive_off_keeps_the_even_split():
    # given clear results but adaptive off, when wave 2 is planned, then even
    plan, _ = plan_wave([ArmCounts("A", 500, 10), ArmCounts("B", 500, 50)], 100, wave=2, seed=1, min_sample=10, adaptive=False)
    assert plan.counts == {"A": 50, "B": 50}


def test_wave_sizes_add_up():
    # given 1001 customers in 4 waves with a 20% first wave, then 200 first and the rest near-even
    sizes = wave_sizes(1001, wave_count=4, first_share=0.2)
    assert sizes[0] == 200 and sum(sizes) == 1001 and max(sizes[1:]) - min(sizes[1:]) <= 1
    assert wave_sizes(7, wave_count=1, first_share=0.2) == [7]
