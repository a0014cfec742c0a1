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


def ndcg_rows(top: np.ndarray, truth: np.ndarray, k: int = 10) -> np.ndarray:
    """NDCG@k of every row at once: `top` holds ranked columns (-1 pads), `truth` is rows x catalogue bool.

    The same numbers as ndcg_at_k, row by row, without a Python loop (the weight searches call it often).
    """
    top = top[:, :k]
    hits = np.take_along_axis(truth, np.maximum(top, 0), axis=1) & (top >= 0)
    discount = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    dcg = hits @ discount
    ideal = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    n_true = np.minimum(truth.sum(axis=1), k)
    return np.where(n_true > 0, dcg / np.maximum(ideal[n_true], 1e-12), np.nan)


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, samples: int = 2000, seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """Mean of a - b over customers with a percentile bootstrap interval (customers resampled, pairs kept).

    `a` and `b` are the same customers' per-customer metric under two models. The gain counts
    (`significant`) only when the interval leaves 0 out.
    """
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if diff.shape != np.shape(b) or diff.ndim != 1 or not len(diff):
        raise ValueError("paired_bootstrap needs two equal-length, non-empty 1-d arrays")
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    for start in range(0, samples, 200):  # blocks of resamples keep memory bounded for many customers
        n = min(200, samples - start)
        means[start:start + n] = diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return {"gain": float(diff.mean()), "low": float(low), "high": float(high), "significant": bool(low > 0 or high < 0)}
