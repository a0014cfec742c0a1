"""Reads of the stored recommendations: a customer's list, a product's similar products, popular lists.

Everything is served from the rows the active recommender version wrote; a customer with no
stored list (new, or unknown) gets the popular list of their country, flagged as a fallback.
Before any recommender is trained, the fallback is the shop's best sellers, counted live
(the one popularity fallback of the platform; campaigns and the assistant read these functions).
Products made inactive (or turned into fees), or deleted, since training are filtered out at read time:
each read joins a customer's list to the products it names in one query (SQLite: a query per 999 products).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count

from customers.models import Customer, OrderLine, Product
from mlcore.models import ModelVersion, PopularProduct, RecommendationList, SimilarProduct
from mlcore.registry.models import version_label

KIND = "recommender"


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


@dataclass(frozen=True)
class CustomerRecommendations:
    external_id: str
    known_customer: bool
    fallback: bool  # True when the list is the popularity fallback
    model_version: str | None  # "recommender:<version>", as ModelVersion.label
    items: list[RecommendedProduct]


def active_recommender_id() -> int | None:
    return ModelVersion.objects.filter(kind=KIND, is_active=True).values_list("pk", flat=True).first()


def _product_of(product: Product, score: float, reason: str) -> RecommendedProduct:
    return RecommendedProduct(
        product_id=product.pk, sku=product.sku, title=product.title, price=product.price,
        image_url=product.image_url, url=product.url, score=float(score), reason=reason,
    )


def _servable(lists: list[list], k: int) -> list[list[RecommendedProduct]]:
    """Each stored list's first k products that are still servable (one query for all the lists)."""
    ids = {item[0] for items in lists for item in items}
    products = Product.objects.recommendable().in_bulk(ids) if ids else {}
    out = []
    for items in lists:
        servable = [_product_of(products[p], score, reason) for p, score, reason in items if p in products]
        out.append(servable[:k])
    return out


def _stored(version_id: int, customer_id: int, k: int) -> list[RecommendedProduct]:
    items = RecommendationList.objects.filter(model_version_id=version_id, customer_id=customer_id).values_list("items", flat=True).first()
    return _servable([items], k)[0] if items else []


BEST_SELLERS_TTL_S = 300


def best_sellers(*, k: int = 10) -> list[RecommendedProduct]:
    """The k active products bought by the most customers, before any recommender is trained (cached a few minutes)."""
    key = f"mlcore:best-sellers:{k}"
    found = cache.get(key)
    if found is None:
        counts = list(
            OrderLine.objects.sales().filter(product__in=Product.objects.recommendable(), order__customer__isnull=False)
            .values("product").annotate(buyers=Count("order__customer", distinct=True)).order_by("-buyers", "product__sku")[:k]
        )
        products = Product.objects.in_bulk([c["product"] for c in counts])
        top = counts[0]["buyers"] if counts else 1
        found = [
            _product_of(products[c["product"]], round(c["buyers"] / top, 4), f"Popular: bought by {c['buyers']} customers")
            for c in counts
        ]
        cache.set(key, found, BEST_SELLERS_TTL_S)
    return found


def popular_products(*, country: str = "", k: int = 10, version_id: int | None = None) -> list[RecommendedProduct]:
    """The popular list of a country, or of the whole shop when the country has none."""
    version_id = version_id or active_recommender_id()
    if version_id is None:
        return best_sellers(k=k)
    base = PopularProduct.objects.filter(model_version_id=version_id, product__active=True, product__kind=Product.Kind.PRODUCT)
    chosen = country if country and base.filter(country=country).exists() else ""
    reason = f"popular in {chosen}" if chosen else "popular in the shop"
    rows = base.filter(country=chosen).select_related("product").order_by("rank")[:k]
    return [_product_of(r.product, r.score, reason) for r in rows]


def recommendations_for_customer(*, customer_id: int, k: int = 10) -> list[RecommendedProduct]:
    """The customer's stored list, or their country's popular list when they have none."""
    version_id = active_recommender_id()
    if version_id is None:
        return best_sellers(k=k)
    items = _stored(version_id, customer_id, k)
    if items:
        return items
    country = Customer.objects.filter(pk=customer_id).values_list("country", flat=True).first() or ""
    return popular_products(country=country, k=k, version_id=version_id)


def recommendations_for_customers(*, customer_ids: list[int], k: int = 10) -> dict[int, list[RecommendedProduct]]:
    """Many customers' lists at once (a campaign batch): the same answer as recommendations_for_customer
    per customer, in three queries (the active version, the stored lists, their products; on SQLite
    the products in groups of 999 ids) instead of three per customer, plus one for customers without a list and two per country whose popular list
    they fall back to (tested with django_assert_num_queries)."""
    version_id = active_recommender_id()
    out: dict[int, list[RecommendedProduct]] = {cid: [] for cid in customer_ids}
    if not customer_ids or k <= 0:
        return out
    if version_id is None:
        return {cid: best_sellers(k=k) for cid in customer_ids}
    stored = list(RecommendationList.objects.filter(model_version_id=version_id, customer_id__in=customer_ids).values_list("customer_id", "items"))
    for (customer_id, _), items in zip(stored, _servable([items for _, items in stored], k), strict=True):
        out[customer_id] = items
    missing = [cid for cid in customer_ids if not out[cid]]
    popular: dict[str, list[RecommendedProduct]] = {}
    for customer_id, country in Customer.objects.filter(pk__in=missing).values_list("pk", "country"):
        if country not in popular:
            popular[country] = popular_products(country=country or "", k=k, version_id=version_id)
        out[customer_id] = popular[country]
    return out


def recommendations_for_external_id(*, external_id: str, k: int = 10) -> CustomerRecommendations:
    """What the API serves: the stored list, or the popularity fallback (flagged) for new/unknown ids.

    A stored list is two queries: the list, with the active version and the customer joined into it,
    and its products.
    """
    stored = (
        RecommendationList.objects.filter(model_version__kind=KIND, model_version__is_active=True, customer__external_id=external_id)
        .values_list("items", "model_version__version").first()
    )
    items = _servable([stored[0]], k)[0] if stored else []
    if items:
        return CustomerRecommendations(external_id=external_id, known_customer=True, fallback=False, model_version=version_label(KIND, stored[1]), items=items)
    active = ModelVersion.objects.filter(kind=KIND, is_active=True).values_list("pk", "version").first()
    customer = Customer.objects.filter(external_id=external_id).values_list("pk", "country").first()
    items = popular_products(country=customer[1] if customer else "", k=k, version_id=active[0]) if active else []
    label = version_label(KIND, active[1]) if active else None
    return CustomerRecommendations(external_id=external_id, known_customer=customer is not None, fallback=True, model_version=label, items=items)


def similar_products(*, sku: str, k: int = 10) -> list[RecommendedProduct] | None:
    """Products similar to this SKU (None when the SKU is unknown)."""
    product_id = Product.objects.filter(sku=sku).values_list("pk", flat=True).first()
    if product_id is None:
        return None
    version_id = active_recommender_id()
    rows = (
        SimilarProduct.objects.filter(model_version_id=version_id, product_id=product_id, similar__active=True, similar__kind=Product.Kind.PRODUCT)
        .select_related("similar").order_by("rank")[:k]
    )
    return [_product_of(r.similar, r.score, "similar product") for r in rows]
