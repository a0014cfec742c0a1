"""The product catalogue and its review highlights as knowledge: each product gets a passage of
facts and, with reviews, one of what customers say, in the English index (the catalogue's
titles are English), cited with a link to the product page.

No signal tells the assistant that an import changed a product, so the periodic task
campaigns.assistant_reindex_products compares every product's state key (updated_at, review
count, last review id; customers.selectors.products_knowledge_state) with the key its chunks
were built from, re-indexes up to a batch of the products that differ (or have no chunks yet)
and queues itself again while some are left. A second run with nothing changed does nothing."""
from __future__ import annotations

import logging

import numpy as np
from django.conf import settings
from django.db import transaction

from campaigns.assistant.models import KnowledgeChunk
from campaigns.assistant.services.knowledge import embed_texts
from campaigns.assistant.services.runtime import encoder_name
from customers.selectors import products_knowledge_rows, products_knowledge_state
from mlcore.ml.assistant.catalogue import ProductFacts, product_passages

log = logging.getLogger(__name__)
CATALOGUE_LANGUAGE = "en"


def catalogue_dirty_products() -> list[int]:
    """Products whose chunks are missing or were built from another state of the product."""
    state = products_knowledge_state()
    indexed = dict(KnowledgeChunk.objects.filter(product__isnull=False, ordinal=0).values_list("product_id", "source_key"))
    return sorted(pk for pk, key in state.items() if indexed.get(pk) != key)


def _facts(row: dict) -> ProductFacts:
    stock = (row["attributes"] or {}).get("stock")
    return ProductFacts(
        sku=row["sku"], title=row["title"], price=None if row["price"] is None else float(row["price"]), currency=settings.SHOP_CURRENCY,
        active=row["active"], stock=int(stock) if str(stock).lstrip("-").isdigit() else None, category=row["category"],
        description=row["description"], review_count=row["review_count"], rating_mean=row["rating_mean"], reviews=row["reviews"],
    )


def catalogue_reindex(*, batch: int = 500) -> dict:
    """Re-chunk and re-embed up to `batch` changed products; says how many are still left. The
    embedding (the slow part) runs outside the transaction that swaps the chunks."""
    state = products_knowledge_state()
    # a product that became a fee leaves the catalogue's passages
    KnowledgeChunk.objects.filter(product__isnull=False).exclude(product_id__in=list(state)).delete()
    dirty = catalogue_dirty_products()
    todo = dirty[:batch]
    rows = products_knowledge_rows(product_ids=todo)
    passages = [(row["id"], i, text) for row in rows for i, text in enumerate(product_passages(_facts(row)))]
    vectors = embed_texts([text for _, _, text in passages], CATALOGUE_LANGUAGE)
    _chunks_replace(todo, passages, vectors, state)
    return {"indexed": len(todo), "chunks": len(passages), "left": len(dirty) - len(todo)}


@transaction.atomic
def _chunks_replace(product_ids: list[int], passages: list[tuple[int, int, str]], vectors, state: dict[int, str]) -> None:
    KnowledgeChunk.objects.filter(product_id__in=product_ids).delete()
    KnowledgeChunk.objects.bulk_create([
        KnowledgeChunk(
            product_id=product_id, ordinal=ordinal, language=CATALOGUE_LANGUAGE, text=text, indexed_text=text,
            source_key=state.get(product_id, ""), embedding=None if vectors is None else vectors[n].astype(np.float32).tobytes(),
            embedding_model="" if vectors is None else encoder_name(CATALOGUE_LANGUAGE),
        )
        for n, (product_id, ordinal, text) in enumerate(passages)
    ])
