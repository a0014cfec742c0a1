"""Recommended products for templates, from a provider named by a setting.

CAMPAIGN_RECOMMENDATION_PROVIDER is the dotted path of callable(customer_id, k) returning
objects with product_id, sku, title, price, image_url, url, score and reason. A provider may
also carry a `many(customer_ids, k) -> {customer_id: list}` attribute: sending asks it once per
batch instead of once per message. The default,
`popular_products`, recommends the shop's best-selling active products (fees excluded), so
emails work before the personal recommender lands.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q
from django.utils.module_loading import import_string

from campaigns.links import product_url
from customers.models import Order, Product

Provider = Callable[[int | None, int], list]


@dataclass(frozen=True)
class RecommendedProduct:
    product_id: int
    sku: str
    title: str
    price: Decimal | None
    image_url: str
    url: str
    score: float
    reason: str


_POPULAR_CACHE: dict[int, tuple[float, list[RecommendedProduct]]] = {}
_POPULAR_TTL_S = 300.0


def _popular(k: int) -> list[RecommendedProduct]:
    sold = Q(order_lines__quantity__gt=0) & ~Q(order_lines__order__status=Order.Status.CANCELLED)
    rows = (
        Product.objects.recommendable().annotate(buyers=Count("order_lines__order__customer", filter=sold, distinct=True))
        .filter(buyers__gt=0).order_by("-buyers", "sku")[:k]
    )
    top = rows[0].buyers if rows else 1
    return [
        RecommendedProduct(
            product_id=p.pk, sku=p.sku, title=p.title, price=p.price, image_url=p.image_url,
            url=p.url or product_url(p.sku), score=round(p.buyers / top, 4),
            reason=f"Popular: bought by {p.buyers} customers",
        )
        for p in rows
    ]


def popular_products(customer_id: int | None, k: int) -> list[RecommendedProduct]:
    """The k active products bought by the most customers (cached for a few minutes per k)."""
    cached = _POPULAR_CACHE.get(k)
    if cached and time.monotonic() - cached[0] < _POPULAR_TTL_S:
        return cached[1]
    products = _popular(k)
    _POPULAR_CACHE[k] = (time.monotonic(), products)
    return products


def popular_cache_clear() -> None:
    _POPULAR_CACHE.clear()


def recommendation_provider() -> Provider:
    return import_string(settings.CAMPAIGN_RECOMMENDATION_PROVIDER)


def recommendations_for(customer_id: int | None, k: int) -> list:
    if k <= 0:
        return []
    return list(recommendation_provider()(customer_id, k))


def recommendations_for_many(customer_ids: list[int], k: int) -> dict[int, list]:
    """Every customer's list for one batch: the provider's `many` when it has one, else one call each."""
    if k <= 0:
        return {cid: [] for cid in customer_ids}
    provider = recommendation_provider()
    many = getattr(provider, "many", None)
    if many is None:
        return {cid: list(provider(cid, k)) for cid in customer_ids}
    found = many(customer_ids, k)
    return {cid: list(found.get(cid) or []) for cid in customer_ids}
