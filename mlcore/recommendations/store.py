"""Bulk writes of a trained recommender's lists: top-N per customer, similar and popular products.

Rows are produced block by block (a few thousand customers at a time) as arrays
(`mlcore.ml.recommendations.topn.top_block`: no per-customer Python) and written as one frame per block
through infra.bulk, which uses COPY on PostgreSQL; a shard writes only the customers of its id
range (`recommendations_replace`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from django.db import transaction

from customers.models import Customer, Product
from infra.bulk import frame_insert, rows_held, rows_insert
from infra.heap import large_arrays_reused
from infra.shards import rows_in_range
from mlcore.ml.recommendations.model import RecommenderModel, Reranker, popular_list, similar_table
from mlcore.ml.recommendations.topn import category_codes, top_block
from mlcore.models import ModelVersion, PopularProduct, Recommendation, SimilarProduct

BLOCK = 2048
REASON_MAX = 300


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
    """One shard: replace this version's top-N rows of customers with ids in [first_id, end_id); returns rows written.

    Delete-then-insert in one transaction, so a shard that is run again (a redelivered message,
    a resumed night) leaves exactly one list per customer. The table's foreign keys carry no
    database constraint (checked row by row at commit they were 3 lookups per row, most of the
    write); instead the shard's customers, the catalogue and the version are locked once
    (`rows_held`), and rows of a customer or product deleted since training are left out, where
    the constraint made the shard fail at every retry.
    """
    Recommendation.objects.filter(model_version_id=version_id, customer_id__gte=first_id, customer_id__lt=end_id).delete()
    rows = rows_in_range(sorted_ids=model.data.user_ids, first_id=first_id, end_id=end_id)
    keep = keys_hold(version_id=version_id, model=model, rows=rows)
    codes = category_codes(model)
    written = 0
    with large_arrays_reused():  # each block frees and makes the same large arrays again
        for start in range(rows.start, rows.stop, BLOCK):  # one COPY per block of customers
            block = np.arange(start, min(start + BLOCK, rows.stop))
            top = top_block(model, block, top_n, codes=codes, reranker=reranker, rerank_candidates=rerank_candidates)
            written += frame_insert(model=Recommendation, frame=keep(recommendation_frame(version_id, model, block, top)), binary=False)
    return written


def keys_hold(*, version_id: int, model: RecommenderModel, rows: range) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Hold the version, the customers at model `rows` and the catalogue for the caller's transaction
    (`infra.bulk.rows_held`); returns the filter that keeps the rows of a recommendation frame whose
    customer and product are held."""
    if not rows_held(model=ModelVersion, ids=np.array([version_id])).size:
        raise ModelVersion.DoesNotExist(f"recommender version {version_id} no longer exists")
    customers = rows_held(model=Customer, ids=model.data.user_ids[rows.start:rows.stop])
    products = rows_held(model=Product, ids=model.data.item_ids)
    return lambda frame: frame[np.isin(frame["customer"], customers) & np.isin(frame["product"], products)]


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
