"""Bulk writes of a trained recommender's lists: top-N per customer, similar and popular products.

Rows are produced block by block (a few thousand customers at a time) and streamed into
infra.bulk, which uses COPY on PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from infra.bulk import rows_insert
from mlcore.ml.recommendations.model import RecommenderModel, Reranker, popular_list, recommend_block, similar_table
from mlcore.models import PopularProduct, Recommendation, SimilarProduct

BLOCK = 2048
REASON_MAX = 300


def lists_write(
    *, version_id: int, model: RecommenderModel, top_n: int, on_block: Callable[[int], None] | None = None,
    reranker: Reranker | None = None, rerank_candidates: int = 20,
) -> dict[str, int]:
    """Write every list of this version; returns the row counts per table.

    With a reranker (the active ranker), each customer's top-N is the hybrid's first
    `rerank_candidates` re-ordered by it; reasons are the hybrid's, as without one.

    Customers go in blocks, one COPY (or bulk_create batch run) per block, and progress is
    reported between blocks: a query on the connection in the middle of a COPY would block it.
    """
    fields = ("model_version", "customer", "product", "rank", "score", "reason")
    recommendations = 0
    for rows, block_rows in _recommendation_blocks(version_id, model, top_n, reranker, rerank_candidates):
        recommendations += rows_insert(model=Recommendation, fields=fields, rows=block_rows)
        if on_block:
            on_block(rows)
    similar = rows_insert(model=SimilarProduct, fields=("model_version", "product", "similar", "rank", "score"), rows=_similar_rows(version_id, model))
    popular = rows_insert(model=PopularProduct, fields=("model_version", "country", "product", "rank", "score"), rows=_popular_rows(version_id, model, top_n))
    return {"recommendations": recommendations, "similar": similar, "popular": popular}


def _recommendation_blocks(
    version_id: int, model: RecommenderModel, top_n: int, reranker: Reranker | None, rerank_candidates: int
) -> Iterator[tuple[int, list[tuple]]]:
    """(customers in the block, their value rows) block by block."""
    items = model.data.item_ids
    for start in range(0, len(model.data.user_ids), BLOCK):
        rows = np.arange(start, min(start + BLOCK, len(model.data.user_ids)))
        values = []
        for row, listed in zip(rows, recommend_block(model, rows, top_n, reranker=reranker, rerank_candidates=rerank_candidates), strict=True):
            customer_id = int(model.data.user_ids[row])
            values.extend(
                (version_id, customer_id, int(items[item.column]), rank, round(item.score, 6), item.reason[:REASON_MAX])
                for rank, item in enumerate(listed, start=1)
            )
        yield len(rows), values


def _similar_rows(version_id: int, model: RecommenderModel) -> Iterator[tuple]:
    columns, scores = similar_table(model)
    items = model.data.item_ids
    for column in range(len(items)):
        for rank, (other, score) in enumerate(zip(columns[column], scores[column], strict=True), start=1):
            if other >= 0:
                yield (version_id, int(items[column]), int(items[other]), rank, round(float(score), 6))


def _popular_rows(version_id: int, model: RecommenderModel, top_n: int) -> Iterator[tuple]:
    items = model.data.item_ids
    for country in ["", *sorted(c for c in model.popularity.country_scores if c)]:
        for rank, item in enumerate(popular_list(model, country, top_n), start=1):
            yield (version_id, country, int(items[item.column]), rank, round(item.score, 6))
