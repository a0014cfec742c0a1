"""Exclusions and list rules applied to a block of scores before the top-N is taken.

Fees and inactive products never become columns (the product universe is the recommendable
catalogue); what a customer bought in the last N days is masked by default; the final list caps
how many products of one category it holds, filling up from the rest when the cap leaves gaps.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse


def recent_purchase_cells(last_days: sparse.csr_matrix, rows: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """(block row, column) of each product the customer bought fewer than `days` days before the end of training."""
    block = last_days[rows]
    return stored_cells(block, (block.data > 0) & (block.data - 1.0 < days))


def recent_purchase_mask(last_days: sparse.csr_matrix, rows: np.ndarray, days: int) -> np.ndarray:
    """`recent_purchase_cells` as a dense (rows x catalogue) mask."""
    return cells_mask(recent_purchase_cells(last_days, rows, days), (len(rows), last_days.shape[1]))


def stored_cells(block: sparse.csr_matrix, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the stored entries of a CSR block where `keep` (one flag per stored entry) holds."""
    row_of = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    return row_of[keep], block.indices[keep]


def cells_mask(cells: tuple[np.ndarray, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[cells] = True
    return mask


def history_mask(counts: sparse.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """True where the customer bought the product (set from the block's stored cells, no dense copy of the counts)."""
    block = counts[rows]
    return cells_mask(stored_cells(block, block.data > 0), (len(rows), counts.shape[1]))


def apply_mask(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    masked = scores.copy()
    masked[mask] = -np.inf
    return masked


TOP_CHUNK_ROWS = 4096


def top_columns(scores: np.ndarray, n: int) -> np.ndarray:
    """Column indices of each row's n best finite scores, best first (-1 pads a short row).

    Rows go TOP_CHUNK_ROWS at a time (each row's result is its own): argpartition's index array is
    8 bytes a score, so the 20,000 validation customers of a tuning held 640 MB of it per trial."""
    if len(scores) > TOP_CHUNK_ROWS:
        return np.vstack([top_columns(scores[start:start + TOP_CHUNK_ROWS], n) for start in range(0, len(scores), TOP_CHUNK_ROWS)])
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    finite = np.isfinite(np.take_along_axis(scores, top, axis=1))
    return np.where(finite, top, -1)


def diversify(ranked: np.ndarray, categories: np.ndarray, k: int, max_per_category: int) -> list[int]:
    """The first k of `ranked` with at most `max_per_category` per category, topped up if short."""
    chosen, skipped, per_category = [], [], {}
    for column in ranked:
        if column < 0:
            continue
        category = categories[column]
        if per_category.get(category, 0) < max_per_category:
            chosen.append(int(column))
            per_category[category] = per_category.get(category, 0) + 1
        else:
            skipped.append(int(column))
        if len(chosen) == k:
            return chosen
    return chosen + skipped[: k - len(chosen)]
