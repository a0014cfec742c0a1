"""Bulk writes of a trained recommender's lists: top-N per customer, similar and popular products.

Lists are scored block by block (a few thousand customers at a time) as arrays
(`mlcore.ml.recommendations.topn.top_block`: no per-customer Python) and written as one frame per block,
one row a customer (`RecommendationList`), through infra.bulk, which uses COPY on PostgreSQL; a
shard writes only the customers of its id range (`recommendations_replace`).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import transaction

from customers.models import Customer, Product
from infra.bulk import frame_insert, rows_held, rows_insert
from infra.heap import large_arrays_reused
from infra.shards import rows_in_range
from mlcore.ml.recommendations.model import RecommenderModel, Reranker, popular_list, similar_table
from mlcore.ml.recommendations.topn import category_codes, top_block
from mlcore.models import ModelVersion, PopularProduct, RecommendationList, SimilarProduct

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
    """One shard: replace this version's lists of customers with ids in [first_id, end_id); returns
    the slots written.

    Delete-then-insert in one transaction, so a shard that is run again (a redelivered message,
    a resumed night) leaves exactly one list per customer. The table's keys carry no database
    constraint (checked row by row at commit they were most of the write); instead the shard's
    customers, the catalogue and the version are locked once (`keys_hold`), and a customer or a
    product deleted since training is left out, where the constraint made the shard fail at every
    retry.
    """
    RecommendationList.objects.filter(model_version_id=version_id, customer_id__gte=first_id, customer_id__lt=end_id).delete()
    rows = rows_in_range(sorted_ids=model.data.user_ids, first_id=first_id, end_id=end_id)
    held = keys_hold(version_id=version_id, model=model, rows=rows)
    codes = category_codes(model)
    written = 0
    with large_arrays_reused():  # each block frees and makes the same large arrays again
        for start in range(rows.start, rows.stop, BLOCK):  # one COPY per block of customers
            block = np.arange(start, min(start + BLOCK, rows.stop))
            top = top_block(model, block, top_n, codes=codes, reranker=reranker, rerank_candidates=rerank_candidates)
            frame, slots = list_frame(version_id, model, block, top, held=held)
            frame_insert(model=RecommendationList, frame=frame, binary=False)
            written += slots
    return written


@dataclass(frozen=True)
class Held:
    """The customer and product ids a shard may write (sorted), held until its transaction ends."""

    customers: np.ndarray
    products: np.ndarray


def keys_hold(*, version_id: int, model: RecommenderModel, rows: range) -> Held:
    """Hold the version, the customers at model `rows` and the catalogue for the caller's transaction
    (`infra.bulk.rows_held`), so a concurrent delete waits for the shard's commit."""
    if not rows_held(model=ModelVersion, ids=np.array([version_id])).size:
        raise ModelVersion.DoesNotExist(f"recommender version {version_id} no longer exists")
    return Held(customers=rows_held(model=Customer, ids=model.data.user_ids[rows.start:rows.stop]),
                products=rows_held(model=Product, ids=model.data.item_ids))


def list_frame(version_id: int, model: RecommenderModel, rows: np.ndarray, top, *, held: Held | None = None) -> tuple[pd.DataFrame, int]:
    """One block's RecommendationList rows (columns in the table's field names) and their slot count:
    each customer's listed slots (padding dropped, a slot without a finite score dropped, and with
    `held` the products and customers not held) as one JSON list. A customer left with no slot gets
    no row. (A re-ranker that returns NaN sets that candidate to -inf; JSON has no such number, so
    the COPY would fail the shard at every retry.)"""
    listed = (top.columns >= 0) & np.isfinite(top.scores)
    products = model.data.item_ids[np.where(listed, top.columns, 0)].astype(np.int64)
    customers = model.data.user_ids[rows].astype(np.int64)
    if held is not None:
        listed &= np.isin(products, held.products) & np.isin(customers, held.customers)[:, None]
    keep = listed.any(axis=1)
    scores = np.round(top.scores, 6)
    items = [
        json.dumps([[p, s, str(r)[:REASON_MAX]] for p, s, r, ok in zip(ps, ss, rs, oks, strict=True) if ok], separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        for ps, ss, rs, oks in zip(products[keep].tolist(), scores[keep].tolist(), top.reasons[keep].tolist(), listed[keep].tolist(), strict=True)
    ]
    frame = pd.DataFrame({"model_version": np.full(len(items), version_id, dtype=np.int64), "customer": customers[keep], "items": items})
    return frame, int(listed.sum())


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
