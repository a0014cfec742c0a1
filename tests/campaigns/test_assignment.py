"""Seeded variant/holdout assignment."""
from __future__ import annotations

import random
from collections import Counter

from campaigns.assignment import assign_arm


def _arms(seed: int, ids, holdout=0.1, shares=((1, 50), (2, 50))):
    return {i: assign_arm(seed=seed, customer_id=i, holdout_share=holdout, shares=list(shares)) for i in ids}


def test_same_seed_gives_same_arms_whatever_the_order():
    # given the same seed, when ids are assigned in two different orders, then every id gets the same arm
    ids = list(range(1, 2001))
    shuffled = ids[:]
    random.Random(3).shuffle(shuffled)
    assert _arms(7, ids) == _arms(7, shuffled)


def test_another_seed_gives_another_assignment():
    # given two seeds, when the same ids are assigned, then many arms differ
    first, second = _arms(1, range(1000)), _arms(2, range(1000))
    assert sum(first[i] != second[i] for i in range(1000)) > 300


def test_holdout_and_variant_shares_are_respected():
    # given 10% holdout and variants weighted 3:1, when 20,000 ids are assigned, then the proportions are close to 10% / 67.5% / 22.5%
    counts = Counter(_arms(11, range(20000), holdout=0.1, shares=((1, 75), (2, 25))).values())
    assert abs(counts[None] / 20000 - 0.10) < 0.01
    assert abs(counts[1] / 20000 - 0.675) < 0.015
    assert abs(counts[2] / 20000 - 0.225) < 0.015


def test_zero_holdout_sends_to_everyone():
    # given no holdout, when assigned, then nobody lands in the holdout
    assert None not in _arms(5, range(1000), holdout=0).values()
