"""Imports of customers, products, reviews and events, and the demo's synthetic email addresses."""
from __future__ import annotations

from django.utils import timezone

from customers.imports.loading import KEY_CHUNK
from customers.models import ConsentChange, ConsentSource, Customer

SYNTHETIC_EMAIL = "customer-{external_id}@example.com"


def customers_add_synthetic_emails(*, external_ids: list[str]) -> int:
    """Demo only (--synthetic-emails): give customers without an email a deterministic fake
    address on example.com with consent recorded as source 'import' and a history row.
    Customers that already have an email or a consent decision are left alone."""
    now = timezone.now()
    changed = []
    for start in range(0, len(external_ids), KEY_CHUNK):
        chunk = Customer.objects.filter(external_id__in=external_ids[start:start + KEY_CHUNK], email="", email_consent_at__isnull=True)
        for customer in chunk:
            customer.email = SYNTHETIC_EMAIL.format(external_id=customer.external_id)
            customer.email_consent, customer.email_consent_at, customer.email_consent_source = True, now, ConsentSource.IMPORT
            changed.append(customer)
    Customer.objects.bulk_update(changed, ["email", "email_consent", "email_consent_at", "email_consent_source", "updated_at"], batch_size=1000)
    ConsentChange.objects.bulk_create(
        [ConsentChange(customer=c, consented=True, source=ConsentSource.IMPORT, changed_at=now, note="synthetic demo address") for c in changed],
        batch_size=1000,
    )
    return len(changed)


def run(layout, raw, report, *, progress, backend, total, shop_timezone):
    raise NotImplementedError(layout.kind)
