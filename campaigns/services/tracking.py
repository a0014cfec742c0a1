"""Tracking and compliance writes: opens, clicks, one-click unsubscribe, bounces.

Opt-outs go through customers.services.customer_set_consent (history with time and source);
hard bounces also add the address to the suppression list checked at send time.
"""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import Delivery, DeliveryEvent, Suppression
from customers.models import ConsentSource, Customer
from customers.services import customer_set_consent


@transaction.atomic
def delivery_open(*, delivery_id: int, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    updated = Delivery.objects.filter(pk=delivery_id).update(opened_at=Coalesce(F("opened_at"), at), open_count=F("open_count") + 1)
    if updated:
        DeliveryEvent.objects.create(delivery_id=delivery_id, kind=DeliveryEvent.Kind.OPEN, occurred_at=at)
    return bool(updated)


@transaction.atomic
def delivery_click(*, delivery_id: int, url: str, at: datetime | None = None) -> bool:
    """A click also counts as an open (images are often blocked)."""
    at = at or timezone.now()
    updated = Delivery.objects.filter(pk=delivery_id).update(
        opened_at=Coalesce(F("opened_at"), at), clicked_at=at, click_count=F("click_count") + 1
    )
    if updated:
        DeliveryEvent.objects.create(delivery_id=delivery_id, kind=DeliveryEvent.Kind.CLICK, url=url[:1000], occurred_at=at)
    return bool(updated)


def delivery_unsubscribe(*, delivery_id: int, at: datetime | None = None) -> bool:
    """One-click opt-out of the delivery's customer; effective at once for every campaign."""
    delivery = Delivery.objects.filter(pk=delivery_id).only("customer_id", "campaign_id").first()
    if delivery is None:
        return False
    customer_set_consent(
        customer_id=delivery.customer_id, consented=False, source=ConsentSource.UNSUBSCRIBE, at=at or timezone.now(),
        note=f"campaign {delivery.campaign_id} unsubscribe link",
    )
    return True


def suppression_add(*, email: str, reason: str, note: str = "") -> tuple[Suppression, bool]:
    """Never mail this address again; a second add of the same address keeps the first reason."""
    suppression = Suppression(email=email.strip().lower(), reason=reason, note=note[:300])
    suppression.full_clean(validate_unique=False)
    return Suppression.objects.get_or_create(email=suppression.email, defaults={"reason": reason, "note": suppression.note})


@transaction.atomic
def bounce_record(*, email: str, hard: bool, note: str = "", at: datetime | None = None) -> bool:
    """A hard bounce suppresses the address and withdraws consent; a soft one changes nothing."""
    email = email.strip().lower()
    if not hard or not email:
        return False
    suppression_add(email=email, reason=Suppression.Reason.HARD_BOUNCE, note=note)
    for customer_id in Customer.objects.filter(email__iexact=email, email_consent=True).values_list("pk", flat=True):
        customer_set_consent(customer_id=customer_id, consented=False, source=ConsentSource.BOUNCE, at=at or timezone.now(), note=note[:200])
    return True
