"""The shop's clock: what "today" means for features, segments, scores and recommendations.

A live shop's today is today. A shop whose last order is older than SHOP_STALE_AFTER_DAYS (an
export loaded for a demo or an analysis, say) is read as of the day after its last order, so
"last bought 5,493 days ago" never appears; pages say which rule applies (`shop_as_of().note`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from customers.models import Order


@dataclass(frozen=True)
class ShopAsOf:
    moment: datetime  # a midnight in the shop's timezone
    last_order_at: datetime | None
    stale: bool

    @property
    def note(self) -> str:
        if not self.stale:
            return f"as of today, {self.moment:%Y-%m-%d}"
        return (f"as of {self.moment:%Y-%m-%d}, the day after the shop's last order "
                f"(no order for over {settings.SHOP_STALE_AFTER_DAYS} days)")


def _midnight(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def shop_as_of(*, now: datetime | None = None) -> ShopAsOf:
    """Today's midnight, or the midnight after the last order when the shop has been quiet too long."""
    now = now or timezone.now()
    last = Order.objects.aggregate(last=Max("placed_at"))["last"]
    if last is not None and now - last > timedelta(days=settings.SHOP_STALE_AFTER_DAYS):
        return ShopAsOf(moment=_midnight(last) + timedelta(days=1), last_order_at=last, stale=True)
    return ShopAsOf(moment=_midnight(now), last_order_at=last, stale=False)


def shop_moment(value: str | datetime) -> datetime | None:
    """A moment a person typed (--as-of, a form): an ISO date or date-time; a naive one is read in
    the shop's timezone (TIME_ZONE), on every path. None when unreadable."""
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        moment = datetime(day.year, day.month, day.day) if day else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def shop_clock_context(request) -> dict:
    """Template context: `shop_as_of`, read only when a page shows it."""
    from django.utils.functional import SimpleLazyObject

    return {"shop_as_of": SimpleLazyObject(shop_as_of)}
