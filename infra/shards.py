"""Shards of work that grows with customers: contiguous id ranges of about equal size.

Such work (every customer's top-N, the reviews to score) is cut into half-open ranges
[first_id, end_id) of the sorted ids (customers', reviews'), each holding at most a shard size of
them, so a shard task names its slice with two integers and a rerun of a shard touches exactly its own rows.
"""
from __future__ import annotations

import numpy as np


def shard_ranges(*, ids: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Half-open id ranges covering every id in `ids`, each holding at most `size` of them."""
    if size < 1:
        raise ValueError(f"shard size must be at least 1, not {size}")
    ordered = np.unique(np.asarray(ids, dtype=np.int64))
    if not len(ordered):
        return []
    starts = ordered[::size]
    ends = np.r_[starts[1:], ordered[-1] + 1]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def rows_in_range(*, sorted_ids: np.ndarray, first_id: int, end_id: int) -> range:
    """The positions in `sorted_ids` (ascending) of the ids in [first_id, end_id)."""
    lo, hi = np.searchsorted(sorted_ids, [first_id, end_id], side="left")
    return range(int(lo), int(hi))
