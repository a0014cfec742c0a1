"""Conversion attribution: an order placed within a campaign's window after its send, by a
customer who clicked, goes to the campaign whose link they clicked last before ordering.

Safe to run again: an order is attributed at most once (Conversion.order is unique).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from campaigns.models import Conversion, DeliveryEvent
from customers.models import LINE_AMOUNT, Order, OrderLine


def _clicks_by_customer(customer_ids: set[int], since: datetime) -> dict[int, list[tuple]]:
    rows = (
        DeliveryEvent.objects.filter(kind=DeliveryEvent.Kind.CLICK, delivery__customer_id__in=customer_ids, delivery__sent_at__gte=since)
        .values_list("delivery__customer_id", "occurred_at", "delivery_id", "delivery__sent_at", "delivery__campaign__conversion_window_days")
    )
    clicks: dict[int, list[tuple]] = defaultdict(list)
    for customer_id, clicked_at, delivery_id, sent_at, window_days in rows:
        clicks[customer_id].append((clicked_at, delivery_id, sent_at, window_days))
    for values in clicks.values():
        values.sort()
    return clicks


def _last_click(clicks: list[tuple], placed_at: datetime) -> int | None:
    """The delivery of the latest click before the order whose send window covers the order."""
    for clicked_at, delivery_id, sent_at, window_days in reversed(clicks):
        if clicked_at <= placed_at <= sent_at + timedelta(days=window_days):
            return delivery_id
    return None


def conversions_attribute(*, now: datetime | None = None, lookback_days: int = 35) -> dict:
    """Attribute not-yet-attributed orders of the last `lookback_days` (covers the longest window)."""
    now = now or timezone.now()
    since = now - timedelta(days=lookback_days)
    orders = list(
        Order.objects.purchases().filter(placed_at__gte=since, placed_at__lte=now, customer__isnull=False, campaign_conversion__isnull=True)
        .values_list("pk", "customer_id", "placed_at")
    )
    clicks = _clicks_by_customer({customer_id for _, customer_id, _ in orders}, since - timedelta(days=lookback_days))
    matched = {}
    for order_id, customer_id, placed_at in orders:
        delivery_id = _last_click(clicks.get(customer_id, []), placed_at)
        if delivery_id:
            matched[order_id] = (delivery_id, placed_at)
    revenue = dict(OrderLine.objects.sales().filter(order_id__in=matched).values("order_id").annotate(r=Sum(LINE_AMOUNT)).values_list("order_id", "r"))
    rows = [Conversion(order_id=o, delivery_id=d, placed_at=p, revenue=revenue.get(o) or 0) for o, (d, p) in matched.items()]
    Conversion.objects.bulk_create(rows, ignore_conflicts=True)
    return {"orders_checked": len(orders), "attributed": len(rows)}
