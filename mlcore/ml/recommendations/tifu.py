"""TIFU-KNN (Hu et al., SIGIR 2020): time-decayed, grouped basket vectors blended with neighbours'.

A customer's baskets (orders, oldest to newest, each a 0/1 vector over the catalogue) are cut into
groups of `group_size`, counted from the newest basket back, so the oldest group may be short.
Within a group the basket j places from the group's newest has weight `within_decay ** j`, divided
by the group's size; the group g places from the newest has weight `across_decay ** g`, divided by
the number of groups. The customer's vector u is the weighted sum of their baskets; the score is
`blend * u + (1 - blend) * mean(u of the k nearest customers)` (cosine on u, the customer left out).

Everything is sparse matrix algebra: one weight per basket, one (customers x baskets) @ (baskets x
catalogue) product for u, neighbours by blocks of customers (no per-customer Python loop).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from mlcore.ml.recommendations.interactions import Interactions


@dataclass(frozen=True)
class TifuConfig:
    group_size: int = 7  # m: baskets per group
    within_decay: float = 0.9  # r_b
    across_decay: float = 0.7  # r_g
    neighbours: int = 300  # k
    blend: float = 0.9  # alpha: own vector vs the neighbours' mean

    def as_dict(self) -> dict:
        return {"group_size": self.group_size, "within_decay": self.within_decay, "across_decay": self.across_decay,
                "neighbours": self.neighbours, "blend": self.blend}


@dataclass(frozen=True)
class Tifu:
    vectors: sparse.csr_matrix  # customers x catalogue: u
    neighbours: sparse.csr_matrix  # customers x customers: 1/k on each row's k nearest customers
    config: TifuConfig


def basket_weights(customer_rows: np.ndarray, placed_at: np.ndarray, config: TifuConfig) -> np.ndarray:
    """The weight of each basket in its customer's vector (inputs: one entry per basket)."""
    order = np.lexsort((placed_at, customer_rows))
    rows = customer_rows[order]
    n_of = np.bincount(rows)[rows]
    first = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    index = np.arange(len(rows)) - np.repeat(first, np.diff(np.r_[first, len(rows)]))  # 0 = oldest
    back = n_of - 1 - index  # 0 = newest
    group, within = back // config.group_size, back % config.group_size
    groups = (n_of + config.group_size - 1) // config.group_size
    last = groups - 1  # the oldest group holds what is left over
    size = np.where(group == last, n_of - last * config.group_size, config.group_size)
    weight = config.within_decay ** within / size * config.across_decay ** group / groups
    out = np.empty(len(rows), dtype=np.float64)
    out[order] = weight
    return out


def customer_vectors(lines: pd.DataFrame, data: Interactions, config: TifuConfig) -> sparse.csr_matrix:
    """u for every customer row of `data`, from the order lines of its window."""
    cols_all = pd.Index(data.item_ids).get_indexer(lines["product_id"].to_numpy())
    rows_all = pd.Index(data.user_ids).get_indexer(lines["customer_id"].to_numpy())
    keep = (cols_all >= 0) & (rows_all >= 0)
    known = pd.DataFrame({"r": rows_all[keep], "c": cols_all[keep], "o": lines["order_id"].to_numpy()[keep],
                          "t": lines["placed_at"].astype("int64").to_numpy()[keep]})
    baskets = known.groupby(["r", "o"], sort=False)["t"].min().reset_index()
    baskets["b"] = np.arange(len(baskets))
    weights = basket_weights(baskets["r"].to_numpy(), baskets["t"].to_numpy(), config)
    items = known.drop_duplicates(["r", "o", "c"]).merge(baskets[["r", "o", "b"]], on=["r", "o"])
    n_customers, n_baskets = len(data.user_ids), len(baskets)
    owner = sparse.csr_matrix((weights, (baskets["r"].to_numpy(), baskets["b"].to_numpy())), shape=(n_customers, n_baskets))
    content = sparse.csr_matrix((np.ones(len(items)), (items["b"].to_numpy(), items["c"].to_numpy())), shape=(n_baskets, len(data.item_ids)))
    return (owner @ content).astype(np.float32).tocsr()


def nearest_neighbours(vectors: sparse.csr_matrix, k: int, *, rows: np.ndarray | None = None, block: int = 128,
                       max_reference: int = 20_000, seed: int = 0) -> sparse.csr_matrix:
    """Rows of 1/k on each customer's k most cosine-similar other customers (blocks of rows).

    `rows`: search for these customers only (the others' rows stay empty): the tuning scores a
    sample of 20,000 validation buyers, and searched for every customer of a million-customer shop
    at each grid point before (most of that night's recommender time).

    Neighbours come from at most `max_reference` customers (a seeded sample when there are more),
    so the search costs customers x max_reference, not customers squared. Each block's similarities
    are the reference rows (sparse) times the block made dense (the product is dense anyway), in
    blocks small enough for the allocator to reuse their memory: 296 against 662 microseconds a
    customer before (sparse times sparse in blocks of 2,048) with 20,000 reference customers, most
    of it now the partial sort. The matrix is built in CSR directly (k neighbours a row), not
    through a coordinate list twice its size.
    """
    n = vectors.shape[0]
    reference = np.arange(n) if n <= max_reference else np.sort(np.random.default_rng(seed).choice(n, max_reference, replace=False))
    k = min(k, len(reference) - 1)
    if k <= 0:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    normed = (sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ vectors).astype(np.float32).tocsr()
    candidates = normed[reference]
    searched = np.arange(n) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    outside = searched[(searched < 0) | (searched >= n)]
    if len(outside):
        raise ValueError(f"rows outside the {n} customers of the vectors: {outside.tolist()}")
    cols = np.empty((len(searched), k), dtype=np.int32)
    for start in range(0, len(searched), block):
        these = searched[start:start + block]
        sims = np.ascontiguousarray((candidates @ normed[these].toarray().T).T)
        sims[these[:, None] == reference[None, :]] = -np.inf  # never your own neighbour
        np.negative(sims, out=sims)
        cols[start:start + len(these)] = reference[np.argpartition(sims, k - 1, axis=1)[:, :k]]
    per_row = np.zeros(n, dtype=np.int64)
    per_row[searched] = k
    values = np.full(cols.size, 1.0 / k, dtype=np.float32)
    return sparse.csr_matrix((values, cols.ravel(), np.r_[0, np.cumsum(per_row)]), shape=(n, n))


def fit_tifu(lines: pd.DataFrame, data: Interactions, config: TifuConfig | None = None, *, rows: np.ndarray | None = None) -> Tifu:
    """Every customer's vector; neighbours of `rows` only when given (an evaluation's), else of all."""
    config = config or TifuConfig()
    vectors = customer_vectors(lines, data, config)
    return Tifu(vectors=vectors, neighbours=nearest_neighbours(vectors, config.neighbours, rows=rows), config=config)


def tifu_scores(model: Tifu, rows: np.ndarray, blend: float | None = None) -> np.ndarray:
    """blend * u + (1 - blend) * the neighbours' mean u, for a block of rows (rows x catalogue)."""
    blend = model.config.blend if blend is None else blend
    out = model.vectors[rows].toarray()
    out *= blend
    neighbours = (model.neighbours[rows] @ model.vectors).toarray()
    neighbours *= 1.0 - blend
    out += neighbours  # blend * own + (1 - blend) * neighbours, without the two temporaries
    return out


def neighbour_scores(model: Tifu, rows: np.ndarray) -> np.ndarray:
    """The neighbours' part alone (for the reason "customers like you bought this")."""
    return (model.neighbours[rows] @ model.vectors).toarray()
