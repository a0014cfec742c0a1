"""Writes to the shop's core records that are not imports: consent and single-record upkeep.

Imports of whole files live in customers.imports; other apps change consent only through
customer_set_consent so that the history is always written with the change.
"""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from customers.models import ConsentChange, ConsentSource, Customer, Event


@transaction.atomic
def customer_set_consent(
    *, customer_id: int, consented: bool, source: str, at: datetime | None = None, note: str = ""
) -> bool:
    """Record a consent decision; returns False when it changed nothing (already in that state)."""
    if source not in ConsentSource.values:
        raise ValueError(f"Unknown consent source {source!r}; expected one of {ConsentSource.values}.")
    at = at or timezone.now()
    # FOR NO KEY UPDATE: no key column changes, so an unsubscribe does not wait on a writer holding the row FOR KEY SHARE
    customer = Customer.objects.select_for_update(no_key=True).get(pk=customer_id)
    if customer.email_consent == consented and customer.email_consent_at is not None:
        return False
    customer.email_consent = consented
    customer.email_consent_at = at
    customer.email_consent_source = source
    customer.save(update_fields=["email_consent", "email_consent_at", "email_consent_source", "updated_at"])
    ConsentChange.objects.create(customer=customer, consented=consented, source=source, changed_at=at, note=note)
    return True


@transaction.atomic
def event_record(*, customer_id: int, kind: str, occurred_at: datetime, properties: dict | None = None) -> Event:
    """Store one behavioural event of a customer (another app's way to add to the customer's history)."""
    event = Event(customer_id=customer_id, kind=kind, occurred_at=occurred_at, properties=properties or {})
    event.full_clean()
    event.save()
    return event
