"""Bulk writes of a trained recommender's lists: top-N per customer, similar and popular products.

Rows are produced block by block (a few thousand customers at a time) as arrays
(`mlcore.ml.recommendations.topn.top_block`: no per-customer Python) and written as one frame per block
through infra.bulk, which uses COPY on PostgreSQL. `customer_rows` limits the
customers to a range of model rows, so a shard writes only its own.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from django.db import transaction

from infra.bulk import frame_insert, rows_insert
from infra.shards import rows_in_range
from mlcore.ml.recommendations.model import RecommenderModel, Reranker, popular_list, similar_table
from mlcore.ml.recommendations.topn import category_codes, top_block
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
    recommendations = recommendations_write(version_id=version_id, model=model, top_n=top_n, on_block=on_block,
                                            reranker=reranker, rerank_candidates=rerank_candidates)
    return {"recommendations": recommendations, **catalogue_lists_write(version_id=version_id, model=model, top_n=top_n)}


def catalogue_lists_write(*, version_id: int, model: RecommenderModel, top_n: int) -> dict[str, int]:
    """Every product's similar products and the popular lists (they do not grow with customers)."""
    similar = rows_insert(model=SimilarProduct, fields=("model_version", "product", "similar", "rank", "score"), rows=_similar_rows(version_id, model))
    popular = rows_insert(model=PopularProduct, fields=("model_version", "country", "product", "rank", "score"), rows=_popular_rows(version_id, model, top_n))
    return {"similar": similar, "popular": popular}


@transaction.atomic
def recommendations_replace(
    *, version_id: int, model: RecommenderModel, top_n: int, first_id: int, end_id: int,
    reranker: Reranker | None = None, rerank_candidates: int = 20,
) -> int:
    """One shard: replace this version's top-N rows of customers with ids in [first_id, end_id).

    Delete-then-insert in one transaction, so a shard that is run again (a redelivered message,
    a resumed night) leaves exactly one list per customer.
    """
    Recommendation.objects.filter(model_version_id=version_id, customer_id__gte=first_id, customer_id__lt=end_id).delete()
    rows = rows_in_range(sorted_ids=model.data.user_ids, first_id=first_id, end_id=end_id)
    return recommendations_write(version_id=version_id, model=model, top_n=top_n, customer_rows=rows,
                                 reranker=reranker, rerank_candidates=rerank_candidates)


def recommendations_write(
    *, version_id: int, model: RecommenderModel, top_n: int, customer_rows: range | None = None,
    on_block: Callable[[int], None] | None = None, reranker: Reranker | None = None, rerank_candidates: int = 20,
) -> int:
    """Write the top-N of the customers at `customer_rows` (all by default), block by block; returns rows written."""
    customer_rows = range(len(model.data.user_ids)) if customer_rows is None else customer_rows
    codes = category_codes(model)
    written = 0
    for start in range(customer_rows.start, customer_rows.stop, BLOCK):
        rows = np.arange(start, min(start + BLOCK, customer_rows.stop))
        top = top_block(model, rows, top_n, codes=codes, reranker=reranker, rerank_candidates=rerank_candidates)
        with transaction.atomic():
            written += frame_insert(model=Recommendation, frame=recommendation_frame(version_id, model, rows, top), binary=False)
        if on_block:
            on_block(len(rows))
    return written


def recommendation_frame(version_id: int, model: RecommenderModel, rows: np.ndarray, top) -> pd.DataFrame:
    """The Recommendation rows of one block (padded slots dropped), columns in the table's field names."""
    listed = top.columns >= 0
    row_of, rank = np.nonzero(listed)
    return pd.DataFrame({
        "model_version": np.full(len(row_of), version_id, dtype=np.int64),
        "customer": model.data.user_ids[rows[row_of]].astype(np.int64),
        "product": model.data.item_ids[top.columns[listed]].astype(np.int64),
        "rank": (rank + 1).astype(np.int64),
        "score": np.round(top.scores[listed], 6),
        "reason": pd.Series(top.reasons[listed], dtype=object).str.slice(0, REASON_MAX).to_numpy(dtype=object),
    })


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
