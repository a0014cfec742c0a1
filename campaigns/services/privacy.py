"""campaigns' part of GDPR export and erasure, registered with customers.privacy from CampaignsConfig.ready().

Export: every campaign delivery of the customer with its opens and clicks, conversions and any
suppression of their address. Erasure deletes the open/click events and the suppression row and
wipes the address and SMTP details from the deliveries; the delivery rows themselves stay,
anonymous, so campaign results and attributed revenue keep adding up.
"""
from __future__ import annotations

from campaigns.models import Conversion, Delivery, DeliveryEvent, Suppression
from customers.models import Customer
from customers.privacy.registry import ErasureReport, register_privacy_provider


def _email(customer_id: int) -> str:
    return Customer.objects.filter(pk=customer_id).values_list("email", flat=True).first() or ""


def customer_campaigns_export(customer_id: int) -> dict[str, list]:
    deliveries = Delivery.objects.filter(customer_id=customer_id)
    email = _email(customer_id)
    return {
        "deliveries": list(deliveries.order_by("id").values(
            "id", "campaign__name", "campaign__slug", "variant__name", "is_holdout", "status", "email", "sent_at",
            "opened_at", "clicked_at", "open_count", "click_count")),
        "delivery_events": list(DeliveryEvent.objects.filter(delivery__customer_id=customer_id).order_by("occurred_at").values("delivery_id", "kind", "url", "occurred_at")),
        "conversions": list(Conversion.objects.filter(delivery__customer_id=customer_id).order_by("placed_at").values("delivery_id", "order__external_id", "revenue", "placed_at")),
        "suppressions": list(Suppression.objects.filter(email__iexact=email).values("email", "reason", "note", "created_at")) if email else [],
    }


def customer_campaigns_erase(customer_id: int) -> ErasureReport:
    email = _email(customer_id)
    events, _ = DeliveryEvent.objects.filter(delivery__customer_id=customer_id).delete()
    suppressions = Suppression.objects.filter(email__iexact=email).delete()[0] if email else 0
    held = Delivery.objects.filter(customer_id=customer_id).exclude(email="", error="", message_id="")
    wiped = held.update(email="", error="", message_id="")
    return ErasureReport(removed={"delivery_events": events, "suppressions": suppressions, "deliveries.address_wiped": wiped})


def register() -> None:
    register_privacy_provider("campaigns", export=customer_campaigns_export, erase=customer_campaigns_erase)
