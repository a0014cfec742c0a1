"""Seeded variant/holdout assignment: the same seed and customer always land in the same arm.

A customer's arm depends only on sha256(seed:customer_id), never on the audience's order or
size, so re-freezing a ledger (or re-running a recurring campaign) reproduces it exactly.
"""
from __future__ import annotations

import hashlib
from decimal import Decimal


def unit_hash(seed: int, customer_id: int) -> float:
    digest = hashlib.sha256(f"{seed}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_arm(*, seed: int, customer_id: int, holdout_share: float | Decimal, shares: list[tuple[int, int]]) -> int | None:
    """The variant id for this customer, or None for the holdout. `shares` is [(variant_id, weight)]."""
    holdout = float(holdout_share)
    u = unit_hash(seed, customer_id)
    if u < holdout:
        return None
    position = (u - holdout) / (1.0 - holdout) * sum(weight for _, weight in shares)
    running = 0.0
    for variant_id, weight in shares:
        running += weight
        if position < running:
            return variant_id
    return shares[-1][0]


def assign_waves(*, seed: int, customer_ids: list[int], sizes: list[int]) -> dict[int, int]:
    """Wave number (1 = first) of each recipient: recipients in the order of a second seeded hash,
    cut into `sizes`, so a wave is a random slice of the audience, independent of the arm hash."""
    order = sorted(customer_ids, key=lambda cid: hashlib.sha256(f"{seed}:wave:{cid}".encode()).digest())
    waves, start = {}, 0
    for number, size in enumerate(sizes, start=1):
        waves.update(dict.fromkeys(order[start:start + size], number))
        start += size
    return waves
