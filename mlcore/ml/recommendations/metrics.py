"""Offline ranking metrics: Recall@K, NDCG@K (binary relevance) and catalogue coverage.

Recall@K divides the hits in the top K by the size of the customer's truth set; NDCG@K divides
the DCG of the list (gain 1 / log2(rank + 1)) by the best DCG reachable with min(K, |truth|)
hits. Both are averaged over customers; coverage is the share of the catalogue that appears in
at least one top-K list.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def recall_at_k(ranked: Sequence[int], truth: set[int], k: int) -> float:
    if not truth:
        raise ValueError("recall is undefined for an empty truth set")
    return len(set(ranked[:k]) & truth) / len(truth)


def ndcg_at_k(ranked: Sequence[int], truth: set[int], k: int) -> float:
    if not truth:
        raise ValueError("NDCG is undefined for an empty truth set")
    dcg = sum(1.0 / np.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in truth)
    ideal = sum(1.0 / np.log2(rank + 2) for rank in range(min(k, len(truth))))
    return float(dcg / ideal)


def coverage(lists: Iterable[Sequence[int]], n_items: int, k: int) -> float:
    seen: set[int] = set()
    for ranked in lists:
        seen.update(ranked[:k])
    return len(seen) / n_items


def summarise(lists: dict[int, Sequence[int]], truth: dict[int, set[int]], n_items: int) -> dict[str, float]:
    """Mean Recall@10/@20, NDCG@10 and coverage@10 over the customers of `truth`."""
    users = [u for u in truth if truth[u]]
    return {
        "recall@10": float(np.mean([recall_at_k(lists[u], truth[u], 10) for u in users])),
        "recall@20": float(np.mean([recall_at_k(lists[u], truth[u], 20) for u in users])),
        "ndcg@10": float(np.mean([ndcg_at_k(lists[u], truth[u], 10) for u in users])),
        "coverage@10": coverage((lists[u] for u in users), n_items, 10),
        "customers": len(users),
    }
