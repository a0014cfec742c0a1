"""Every customer's top-N as arrays: blocked matrix products, a partial sort, no per-customer Python.

`top_block` lists the same products, scores and reasons as `model.recommend_block` (the
per-customer reference, tested equal) for a block of customer rows, but as (rows x k) arrays:
the candidates come from `block_candidates` (blended part scores of the block, seen items
masked, argpartition to k * 4); the category cap is applied to the whole block at once by
comparing each candidate's category with those ranked above it; the reason of every listed item
is found with one gather per part over (customer, item, history item) triples. A block of 2,048
customers over 10,000 products holds a few hundred MB of float32 scores at most.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from mlcore.ml.recommendations.model import RecommenderModel, Reranker, block_candidates, popular_reason


@dataclass(frozen=True)
class TopBlock:
    columns: np.ndarray  # rows x k catalogue columns, best first; -1 pads a short list
    scores: np.ndarray  # rows x k float64 (nan where padded)
    reasons: np.ndarray  # rows x k object strings ("" where padded)


def category_codes(model: RecommenderModel) -> np.ndarray:
    """Integer code per catalogue column of its category (made once per model, not per block)."""
    return pd.factorize(pd.Series(model.categories, dtype=object).fillna(""))[0].astype(np.int64)


def top_block(
    model: RecommenderModel, rows: np.ndarray, k: int, *, codes: np.ndarray | None = None,
    exclude_recent_days: int | None = None, reranker: Reranker | None = None, rerank_candidates: int = 20,
) -> TopBlock:
    """The top-k of each of `rows` with the rules applied and the reason of every item."""
    normalised, ranked, listed = block_candidates(
        model, rows, k, exclude_recent_days=exclude_recent_days, reranker=reranker, rerank_candidates=rerank_candidates,
    )
    codes = category_codes(model) if codes is None else codes
    order = diversified_order(ranked, codes, k, model.config.max_per_category)
    columns = np.take_along_axis(ranked, order, axis=1)
    scores = np.where(columns >= 0, np.take_along_axis(listed, order, axis=1), np.nan)
    return TopBlock(columns, scores, block_reasons(model, normalised, rows, columns))


def diversified_order(ranked: np.ndarray, codes: np.ndarray, k: int, max_per_category: int) -> np.ndarray:
    """Positions in `ranked` of each row's list: `rules.diversify` for a whole block.

    A candidate passes the cap when fewer than `max_per_category` candidates of its category rank
    above it (those above are then all listed, up to the cap); passing ones come first in rank
    order, then the skipped ones in rank order, then padding.
    """
    valid = ranked >= 0
    cats = np.where(valid, codes[np.maximum(ranked, 0)], -1)
    m = ranked.shape[1]
    above = np.tril(np.ones((m, m), dtype=bool), -1)  # [j, i]: i ranks above j
    same_above = ((cats[:, :, None] == cats[:, None, :]) & above[None]).sum(axis=2)
    position = np.arange(m)[None, :]
    key = np.where(valid & (same_above < max_per_category), position, np.where(valid, m + position, 2 * m + position))
    order = np.argsort(key, axis=1, kind="stable")[:, :k]
    return np.where(np.take_along_axis(valid, order, axis=1), order, _pad_position(ranked, order))


def _pad_position(ranked: np.ndarray, order: np.ndarray) -> np.ndarray:
    """A position holding -1 in each row, so padded slots gather -1 (a full row keeps its order)."""
    has_pad = (ranked < 0).any(axis=1)
    first_pad = np.argmax(ranked < 0, axis=1)
    return np.where(has_pad[:, None], first_pad[:, None], order)


def _argmax_part(weights, normalised: dict[str, np.ndarray], safe: np.ndarray) -> np.ndarray:
    """reason_for's choice under one blend: the first part with the largest weighted contribution ("pop" if no part has weight)."""
    names = [name for name in normalised if weights.of(name)]
    if not names:
        return np.full(safe.shape, "pop", dtype=object)
    contributions = np.stack([weights.of(name) * np.take_along_axis(normalised[name], safe, axis=1) for name in names])
    return np.array(names, dtype=object)[contributions.argmax(axis=0)]


def _top_part(model: RecommenderModel, normalised: dict[str, np.ndarray], safe: np.ndarray, owned: np.ndarray) -> np.ndarray:
    """The part behind each listed item, under the blend that ranked it (model._weights_behind): the
    explore blend for a product new to the customer when a repeat/explore split is served."""
    part = _argmax_part(model.weights, normalised, safe)
    if getattr(model, "slots", None) is not None and model.explore_weights is not None:
        part = np.where(owned == 0, _argmax_part(model.explore_weights, normalised, safe), part)
    return part


def block_reasons(model: RecommenderModel, normalised: dict[str, np.ndarray], rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """`model.reason_for` of every listed (row, column), computed per part for the whole block."""
    n, k = columns.shape
    valid = columns >= 0
    safe = np.maximum(columns, 0)
    counts = model.data.counts[rows]
    owned = np.asarray(counts[np.arange(n)[:, None], safe].todense()).astype(np.int64) if n and k else np.zeros((n, k), np.int64)
    part = _top_part(model, normalised, safe, owned)
    has_history = (np.diff(counts.indptr) > 0)[:, None] & np.ones((1, k), dtype=bool)
    countries, country_of = np.unique(model.data.user_country[rows].astype(str), return_inverse=True)
    popular = np.array([popular_reason(c) for c in countries], dtype=object)
    reasons = np.repeat(popular[country_of.reshape(-1)][:, None], k, axis=1)
    rebuy = valid & np.isin(part, ["ba", "tifu"]) & (owned > 0)
    reasons[rebuy] = ["you bought this once" if b == 1 else f"you bought this {b} times" for b in owned[rebuy]]
    reasons[valid & (part == "tifu") & (owned == 0)] = "customers like you bought this"
    for name, prefix in (("cf", "bought together with "), ("cb", "similar to ")):
        chosen = valid & has_history & (part == name)
        if chosen.any():
            i, j = np.nonzero(chosen)
            anchors = _anchors(model, counts, i, columns[i, j], co_purchase=name == "cf")
            reasons[i, j] = prefix + pd.Series(model.titles[anchors], dtype=object).astype(str).to_numpy(dtype=object)
    reasons[~valid] = ""
    return reasons


def _anchors(model: RecommenderModel, counts: sparse.csr_matrix, block_rows: np.ndarray, columns: np.ndarray, *, co_purchase: bool) -> np.ndarray:
    """For each (block row, column) pair: the history item most like the column (first on ties).

    Co-purchase: the item-kNN similarity; otherwise the embedding dot product. Pairs are expanded
    to (pair, history item) triples, scored in one gather, and the best of each pair kept.
    """
    counts = counts if counts.has_sorted_indices else counts.sorted_indices()
    starts, ends = counts.indptr[block_rows], counts.indptr[block_rows + 1]
    lengths = ends - starts
    pair = np.repeat(np.arange(len(block_rows)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    history = counts.indices[np.repeat(starts, lengths) + offsets].astype(np.int64)
    target = columns[pair]
    if co_purchase:
        values = np.asarray(model.knn[history, target]).ravel().astype(np.float64)
    else:
        values = np.einsum("ij,ij->i", model.embeddings[history], model.embeddings[target]).astype(np.float64)
    best = np.lexsort((offsets, -values, pair))
    first = np.r_[True, pair[best][1:] != pair[best][:-1]]
    return history[best[first]]
