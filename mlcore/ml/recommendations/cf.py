"""Collaborative filtering on the implicit purchase matrix: ALS (`implicit`) and item-kNN.

ALS learns from BM25-weighted order counts; item-kNN scores a product by its cosine similarity
(on who bought it) to what the customer bought, and also names the "bought together with" item.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import threadpoolctl
from scipy import sparse

from mlcore.ml.recommendations.interactions import Interactions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlsConfig:
    factors: int = 64
    regularization: float = 0.05
    iterations: int = 15
    alpha: float = 1.0
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    seed: int = 7


@dataclass(frozen=True)
class AlsFactors:
    user_factors: np.ndarray
    item_factors: np.ndarray


def fit_als(data: Interactions, config: AlsConfig = AlsConfig(), *, progress: Callable[[str], None] | None = None) -> AlsFactors:
    """Fit implicit's CPU ALS; the factors are copied out as plain float32 arrays.

    BLAS is held to one thread while it fits: implicit's conjugate-gradient step makes one small
    `ssymv` call per customer per step, and an OpenBLAS thread pool behind each call is the
    "severe performance issue" implicit warns of (its threads come from OpenMP, not from BLAS).
    `progress` is told each iteration's seconds.
    """
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import bm25_weight

    weighted = bm25_weight(data.counts.tocoo(), K1=config.bm25_k1, B=config.bm25_b).tocsr().astype(np.float32)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        model = AlternatingLeastSquares(
            factors=config.factors, regularization=config.regularization, iterations=config.iterations,
            alpha=config.alpha, random_state=config.seed, calculate_training_loss=False,
        )
        log.info("ALS on %s x %s (%s non-zeros), %s factors, %s iterations; thread pools %s", *weighted.shape, weighted.nnz,
                 config.factors, config.iterations, _pools())
        started = time.perf_counter()

        def told(iteration: int, seconds: float, _loss) -> None:
            if progress:
                progress(f"ALS iteration {iteration + 1}/{config.iterations} in {seconds:.1f} s ({time.perf_counter() - started:.0f} s so far)")

        model.fit(weighted, show_progress=False, callback=told)
    return AlsFactors(np.asarray(model.user_factors, dtype=np.float32), np.asarray(model.item_factors, dtype=np.float32))


def _pools() -> str:
    return ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in threadpoolctl.threadpool_info())


def als_scores(factors: AlsFactors, rows: np.ndarray) -> np.ndarray:
    return factors.user_factors[rows] @ factors.item_factors.T


def fit_item_knn(data: Interactions, *, neighbours: int = 100) -> sparse.csr_matrix:
    """Item x item cosine similarity on binary purchases, keeping each item's top neighbours."""
    binary = (data.counts > 0).astype(np.float32).tocsc()
    norms = np.sqrt(np.asarray(binary.multiply(binary).sum(axis=0)).ravel()) + 1e-9
    normed = binary @ sparse.diags(1.0 / norms)
    sim = (normed.T @ normed).tocsr()
    sim.setdiag(0)
    sim.eliminate_zeros()
    return _keep_top(sim, neighbours)


def _keep_top(sim: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for i in range(sim.shape[0]):
        start, end = sim.indptr[i], sim.indptr[i + 1]
        data, idx = sim.data[start:end], sim.indices[start:end]
        if len(data) > k:
            keep = np.argpartition(-data, k)[:k]
            data, idx = data[keep], idx[keep]
        rows.append(np.full(len(idx), i))
        cols.append(idx)
        vals.append(data)
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=sim.shape)


def item_knn_scores(sim: sparse.csr_matrix, data: Interactions, rows: np.ndarray) -> np.ndarray:
    return np.asarray((data.decayed[rows] @ sim).todense())
