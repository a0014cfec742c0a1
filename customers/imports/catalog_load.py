"""Loading customer, product, review and event files, and the demo's synthetic email addresses."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from django.utils import timezone

from customers.imports import catalog
from customers.imports.loading import KEY_CHUNK, Progress, TableLoad, keyed, table_load
from customers.imports.readers import Layout, RawTable
from customers.imports.report import ImportReport
from customers.models import ConsentChange, ConsentSource, Customer, Event, Product, Review

SYNTHETIC_EMAIL = "customer-{external_id}@example.com"


def run(layout: Layout, raw: RawTable, report: ImportReport, *, progress: Progress | None, backend: str | None,
        total: Callable[[int], None], shop_timezone: str, product_kinds: dict | None = None, latest=None) -> None:
    """Clean and load one customers / products / reviews / events file (product_kinds: the fee rules
    where the layout has none; latest: the latest date accepted)."""
    def load(spec: TableLoad, table: str) -> None:
        table_load(spec, report.table(table), progress=progress, backend=backend)

    if layout.kind == "customers":
        frame = catalog.clean_customers(raw, layout, report, shop_timezone=shop_timezone, latest=latest)
        total(len(frame))
        fields = ("email", "name", "country", "first_seen")
        load(TableLoad(Customer, "external_id", frame, fields, least=("first_seen",), keep_if_missing=fields), "customers")
    elif layout.kind == "products":
        frame = catalog.clean_products(raw, layout, report, product_kinds=product_kinds)
        total(len(frame))
        fields = ("title", "description", "category", "price", "kind", "attributes")
        load(TableLoad(Product, "sku", frame, fields, keep_if_missing=fields), "products")
    elif layout.kind == "reviews":
        frame, products = catalog.clean_reviews(raw, layout, report, shop_timezone=shop_timezone, latest=latest)
        total(len(frame) + len(products))
        fields = ("title", "category", "description")
        load(TableLoad(Product, "sku", products, fields, keep_if_missing=fields), "products")
        frame = _with_ids(frame, report, product_ids=True, customer_ids=True)
        fields = ("product_id", "customer_id", "rating", "label", "title", "text", "language", "created_at")
        load(TableLoad(Review, "external_id", frame, fields), "reviews")
    elif layout.kind == "events":
        frame = catalog.clean_events(raw, layout, report, shop_timezone=shop_timezone, latest=latest)
        frame = _with_ids(frame.rename(columns={"sku": "product_sku"}), report, product_ids=True, customer_ids=True)
        unknown = frame["customer_id"].isna()
        report.drop("unknown_customer", unknown.sum())  # an event without its customer carries nothing
        frame = frame[~unknown]
        total(len(frame))
        load(TableLoad(Event, "external_id", frame, ("customer_id", "kind", "product_id", "occurred_at")), "events")
    else:
        raise ValueError(f"Unknown import kind {layout.kind!r}.")


def _with_ids(frame: pd.DataFrame, report: ImportReport, *, product_ids: bool, customer_ids: bool) -> pd.DataFrame:
    """Natural keys -> row ids; a key that names no stored row is counted (and left empty)."""
    frame = frame.copy()
    for wanted, column, model, key, target in (
        (product_ids, "product_sku", Product, "sku", "product_id"),
        (customer_ids, "customer_id", Customer, "external_id", "customer_ext_id"),
    ):
        if not wanted:
            continue
        named = frame[column] != ""
        values = list(frame.loc[named, column].unique())
        ids = {}
        for start in range(0, len(values), KEY_CHUNK):
            ids.update(keyed(model, key, values[start:start + KEY_CHUNK]).values_list(key, "id"))
        frame[target] = frame[column].map(ids)
        report.count(f"unknown_{model._meta.model_name}", named & frame[target].isna(), frame)
    return frame.drop(columns=["customer_id"]).rename(columns={"customer_ext_id": "customer_id"})


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
