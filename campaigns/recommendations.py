"""Recommended products for messages: mlcore's recommendation selector, with links into this shop.

The lists (and their popularity fallback, also before any recommender is trained) come from
`mlcore.recommendations.selectors`; this module only gives an item without its own product
URL the shop's product page, so every link in a message goes somewhere.
"""
from __future__ import annotations

from dataclasses import replace

from campaigns.links import product_url
from mlcore.recommendations import selectors
from mlcore.recommendations.selectors import RecommendedProduct


def _linked(items: list[RecommendedProduct]) -> list[RecommendedProduct]:
    return [item if item.url else replace(item, url=product_url(item.sku)) for item in items]


def recommendations_for(customer_id: int | None, k: int) -> list[RecommendedProduct]:
    if k <= 0:
        return []
    if customer_id is None:
        return _linked(selectors.best_sellers(k=k))
    return _linked(selectors.recommendations_for_customer(customer_id=customer_id, k=k))


def recommendations_for_many(customer_ids: list[int], k: int) -> dict[int, list[RecommendedProduct]]:
    """Every customer's list for one batch, in a few queries (see recommendations_for_customers)."""
    found = selectors.recommendations_for_customers(customer_ids=customer_ids, k=k)
    return {cid: _linked(found.get(cid) or []) for cid in customer_ids}
