"""Reads of the support assistant: a signed customer's own orders (never anyone else's), the
customer context a ticket carries, and the conversation log."""
from __future__ import annotations

from django.db.models import Count, QuerySet

from campaigns.assistant.models import ChatMessage, Conversation
from customers.models import Order, Product
from mlcore.predictions import selectors as prediction_selectors
from mlcore.segments import selectors as segment_selectors


def customer_order(*, customer_id: int, number: str) -> Order | None:
    """The order with this number only if it belongs to this customer (None otherwise, either way)."""
    return Order.objects.filter(customer_id=customer_id, external_id__iexact=number).annotate(n_lines=Count("lines")).first()


def customer_recent_orders(*, customer_id: int, limit: int = 3) -> list[Order]:
    return list(Order.objects.filter(customer_id=customer_id).annotate(n_lines=Count("lines")).order_by("-placed_at")[:limit])


def customer_context(*, customer_id: int | None) -> dict:
    """What staff see on a ticket: segment, churn risk, expected value, the five latest orders."""
    if customer_id is None:
        return {"anonymous": True}
    membership = segment_selectors.customer_segment_history(customer_id=customer_id).first()
    score = prediction_selectors.customer_scores(customer_id=customer_id)
    orders = customer_recent_orders(customer_id=customer_id, limit=5)
    return {
        "customer_id": customer_id,
        "segment": membership.segment.name if membership else None,
        "churn_probability": None if score is None else round(score.churn_probability, 3),
        "expected_value_12m": None if score is None or score.expected_value_12m is None else round(score.expected_value_12m, 2),
        "recent_orders": [
            {"number": o.external_id, "placed_at": o.placed_at.date().isoformat(), "status": o.status, "total": str(o.total)} for o in orders
        ],
    }


def conversation_by_public_id(*, public_id) -> Conversation | None:
    return Conversation.objects.filter(public_id=public_id).select_related("customer").first()


def conversation_messages(*, conversation_id: int) -> QuerySet[ChatMessage]:
    return ChatMessage.objects.filter(conversation_id=conversation_id).order_by("created_at", "id")


def products_by_id(*, product_ids: list[int]) -> list[Product]:
    """The products a catalogue citation names (sku and title only)."""
    return list(Product.objects.filter(pk__in=product_ids).only("id", "sku", "title")) if product_ids else []
