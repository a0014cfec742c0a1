"""mlcore's part of GDPR export and erasure, registered with customers.privacy from MlcoreConfig.ready().

Export: scores, segment memberships, recommendations, feature rows, review sentiments, aspects and
alerts. Erasure deletes all of those and marks for retraining every ready model version whose
training window covered the customer's data: orders for the shop models, reviews for sentiment.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from customers.models import Product
from customers.privacy.registry import ErasureReport, register_privacy_provider
from customers.selectors import customer_data_span
from mlcore.features.models import FEATURE_COLUMNS
from mlcore.models import (
    CustomerFeatures,
    CustomerScore,
    ModelVersion,
    RecommendationList,
    ReviewAlert,
    ReviewAspect,
    ReviewSentiment,
    SegmentMembership,
)

SENTIMENT_KIND_PREFIX = "sentiment"


def _tables(customer_id: int) -> dict[str, QuerySet]:
    reviews = Q(review__customer_id=customer_id)
    return {
        "scores": CustomerScore.objects.filter(customer_id=customer_id),
        "segment_memberships": SegmentMembership.objects.filter(customer_id=customer_id),
        "recommendations": RecommendationList.objects.filter(customer_id=customer_id),
        "feature_rows": CustomerFeatures.objects.filter(customer_id=customer_id),
        "review_sentiments": ReviewSentiment.objects.filter(reviews),
        "review_aspects": ReviewAspect.objects.filter(reviews),
        "review_alerts": ReviewAlert.objects.filter(customer_id=customer_id),
    }


def customer_insights_export(customer_id: int) -> dict[str, list]:
    tables = _tables(customer_id)
    version = ["model_version__kind", "model_version__version"]
    return {
        "scores": list(tables["scores"].order_by("scored_at").values(
            *version, "churn_probability", "probability_active", "expected_purchases_30", "expected_purchases_90",
            "expected_purchases_365", "expected_value_12m", "expected_value_12m_low", "expected_value_12m_high", "value_reason",
            "reason", "scored_at")),
        "segment_memberships": list(tables["segment_memberships"].order_by("run__snapshot_at").values("run__snapshot_at", "segment__key", "segment__name")),
        "recommendations": _recommendations_export(tables["recommendations"]),
        "feature_rows": list(tables["feature_rows"].order_by("snapshot__snapshot_at").values("snapshot__snapshot_at", *FEATURE_COLUMNS)),
        "review_sentiments": list(tables["review_sentiments"].order_by("review_id").values("review_id", "label", "score", "language", "method", "scored_at")),
        "review_aspects": list(tables["review_aspects"].order_by("review_id", "aspect").values("review_id", "aspect", "label", "score")),
        "review_alerts": list(tables["review_alerts"].order_by("created_at").values("review_id", "reason", "status", "created_at")),
    }


def _recommendations_export(lists: QuerySet) -> list[dict]:
    """The customer's stored lists a slot a row: version, rank, product SKU and title, score, reason
    (a slot of a product deleted since the night is left out, as the product's deletion removed it
    from the table of slots before migration 0018)."""
    rows = list(lists.order_by("model_version_id").values_list("model_version__kind", "model_version__version", "items"))
    products = Product.objects.in_bulk({item[0] for *_, items in rows for item in items})
    return [
        {"model_version__kind": kind, "model_version__version": number, "rank": rank,
         "product__sku": products[p].sku, "product__title": products[p].title, "score": score, "reason": reason}
        for kind, number, items in rows for rank, (p, score, reason) in enumerate(items, start=1) if p in products
    ]


def _covering(first, last) -> Q:
    """Versions whose training window [start, end) overlaps [first, last]; an unknown bound covers."""
    return (Q(data_window_start__isnull=True) | Q(data_window_start__lte=last)) & (Q(data_window_end__isnull=True) | Q(data_window_end__gt=first))


def model_versions_mark_retraining(*, customer_id: int, reason: str) -> list[str]:
    """Mark the ready versions trained on this customer's data; returns them as "kind vN"."""
    span = customer_data_span(customer_id=customer_id)
    ready = ModelVersion.objects.filter(status=ModelVersion.Status.READY)
    sentiment = Q(kind__startswith=SENTIMENT_KIND_PREFIX)
    affected = ready.none()
    if span.orders_first is not None:
        affected |= ready.filter(_covering(span.orders_first, span.orders_last)).exclude(sentiment)
    if span.reviews_first is not None:
        affected |= ready.filter(_covering(span.reviews_first, span.reviews_last) & sentiment)
    rows = list(affected.order_by("kind", "version").values_list("pk", "kind", "version"))
    stamp = f"{timezone.now():%Y-%m-%d %H:%M} {reason}"
    for pk, _, _ in rows:  # a handful of versions: one UPDATE each keeps earlier reasons
        version = ModelVersion.objects.get(pk=pk)
        version.needs_retraining = True
        version.retraining_reason = f"{version.retraining_reason}\n{stamp}".strip()
        version.save(update_fields=["needs_retraining", "retraining_reason"])
    return [f"{kind} v{number}" for _, kind, number in rows]


def customer_insights_erase(customer_id: int) -> ErasureReport:
    retrain = model_versions_mark_retraining(customer_id=customer_id, reason=f"customer {customer_id} erased (GDPR)")
    tables = _tables(customer_id)
    slots = sum(len(items) for items in tables["recommendations"].values_list("items", flat=True))  # reported a slot a row, as stored until 0018
    removed = {name: qs.delete()[0] for name, qs in tables.items()} | {"recommendations": slots}
    return ErasureReport(removed=removed, needs_retraining=retrain)


def register() -> None:
    register_privacy_provider("insights", export=customer_insights_export, erase=customer_insights_erase)
