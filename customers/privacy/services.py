"""GDPR export and erasure of one customer, run as jobs, and the audit log of who read PII.

`privacy_request_create` records the request (and its audit row) and queues customers.privacy_run
after commit; `privacy_request_run` claims it and runs `customer_export_document` (written as one
JSON file to the "privacy" storage) or `customer_erase`. Sections beyond the core records come
from the providers other apps register in customers.privacy.registry.

`pii_access_record` writes one audit row; entrypoints that show PII call it (or, per request,
`pii_read_mark` from a serializer plus PiiAccessMiddleware, which writes one row per request).
"""
from __future__ import annotations

import json
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from customers.models import ConsentChange, Customer, Event, Order, OrderLine, Review
from customers.privacy.models import PiiAccess, PrivacyRequest
from customers.privacy.registry import privacy_providers
from customers.webhooks.services import webhook_payloads_scrub

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
MAX_IDS_PER_ROW = 1000


# --- audit log ------------------------------------------------------------------------------

def request_actor(request) -> dict:
    """user_id, api_key and actor of a request: an API key (request.auth with a `prefix`) or a user."""
    key = getattr(request, "auth", None)
    prefix = getattr(key, "prefix", None) or getattr(key, "name", None)
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    if prefix:
        return {"user_id": user_id, "api_key": str(prefix)[:100], "actor": f"key:{prefix}"[:200]}
    if user_id is not None:
        return {"user_id": user_id, "api_key": "", "actor": f"user:{user.get_username()}"[:200]}
    return {"user_id": None, "api_key": "", "actor": "anonymous"}


def pii_access_record(
    *, action: str, route: str, actor: str, customer_ids: list[int], method: str = "", user_id: int | None = None, api_key: str = "",
) -> PiiAccess:
    """One audit row: who (user or key), what (read / export / erase), where (route), whom."""
    ids = sorted({int(i) for i in customer_ids})
    return PiiAccess.objects.create(
        action=action, route=route[:500], method=method[:8], actor=actor[:200], user_id=user_id, api_key=api_key[:100],
        customer_count=len(ids), customer_ids=ids[:MAX_IDS_PER_ROW],
    )


def pii_access_record_request(*, request, action: str, customer_ids: list[int]) -> PiiAccess:
    return pii_access_record(action=action, route=request.path, method=request.method, customer_ids=customer_ids, **request_actor(request))


def pii_read_mark(request, customer_ids) -> None:
    """Note that this request showed these customers' PII; PiiAccessMiddleware writes one row at the end."""
    target = getattr(request, "_request", request)  # a DRF Request wraps the Django one the middleware sees
    seen = getattr(target, "_pii_customer_ids", None)
    if seen is None:
        seen = target._pii_customer_ids = set()
    seen.update(int(i) for i in customer_ids)


def pii_read_flush(request, response) -> PiiAccess | None:
    """The audit row of a request that marked PII reads and answered 2xx (called by the middleware)."""
    seen = getattr(request, "_pii_customer_ids", None)
    if not seen or not 200 <= response.status_code < 300:
        return None
    # DRF copies the user and auth it authenticated onto the Django request, so the actor is known here.
    return pii_access_record_request(request=request, action=PiiAccess.Action.READ, customer_ids=sorted(seen))


# --- requests (jobs) ------------------------------------------------------------------------

@transaction.atomic
def privacy_request_create(*, kind: str, customer_id: int, request) -> PrivacyRequest:
    """Record an export or erasure request with its audit row and queue it after commit."""
    if kind not in PrivacyRequest.Kind.values:
        raise ValueError(f"Unknown privacy request {kind!r}; expected one of {PrivacyRequest.Kind.values}.")
    actor = request_actor(request)
    job = PrivacyRequest.objects.create(kind=kind, customer_id=customer_id, requested_by=actor["actor"])
    pii_access_record(action=kind, route=request.path, method=request.method, customer_ids=[customer_id], **actor)
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(request_id: int) -> None:
    from customers.tasks import privacy_run

    privacy_run.apply_async(kwargs={"request_id": request_id})


def privacy_request_run(*, request_id: int) -> str:
    """Run a queued request (safe twice: only a queued one is claimed); returns its final status."""
    if not PrivacyRequest.objects.filter(pk=request_id, status=PrivacyRequest.Status.QUEUED).update(
            status=PrivacyRequest.Status.RUNNING, started_at=timezone.now()):
        return "skipped"
    job = PrivacyRequest.objects.get(pk=request_id)
    try:
        fields = _export(job) if job.kind == PrivacyRequest.Kind.EXPORT else {"result": customer_erase(customer_id=job.customer_id)}
    except Exception as exc:
        privacy_request_fail(request_id=request_id, error=f"{type(exc).__name__}: {exc}")
        raise
    PrivacyRequest.objects.filter(pk=request_id).update(status=PrivacyRequest.Status.SUCCEEDED, finished_at=timezone.now(), **fields)
    return PrivacyRequest.Status.SUCCEEDED


def privacy_request_fail(*, request_id: int, error: str) -> None:
    PrivacyRequest.objects.filter(pk=request_id).exclude(status=PrivacyRequest.Status.SUCCEEDED).update(
        status=PrivacyRequest.Status.FAILED, error=error[:5000], finished_at=timezone.now())


def _export(job: PrivacyRequest) -> dict:
    document = customer_export_document(customer_id=job.customer_id)
    body = json.dumps(document, cls=DjangoJSONEncoder, indent=1, ensure_ascii=False).encode()
    name = storages["privacy"].save(f"customer-{job.customer_id}/export-{job.pk}.json", ContentFile(body))
    return {"file_name": name, "result": document["export"]["sections"]}


def privacy_export_open(*, request_id: int):
    """The export file of a succeeded export request (a binary file object)."""
    job = PrivacyRequest.objects.get(pk=request_id, kind=PrivacyRequest.Kind.EXPORT, status=PrivacyRequest.Status.SUCCEEDED)
    return storages["privacy"].open(job.file_name, "rb")


# --- export ---------------------------------------------------------------------------------

def _core_sections(customer_id: int) -> dict:
    customer = Customer.objects.filter(pk=customer_id).values(
        "id", "external_id", "email", "name", "country", "first_seen", "email_consent", "email_consent_at",
        "email_consent_source", "erased_at", "created_at", "updated_at").get()
    lines = OrderLine.objects.filter(order__customer_id=customer_id).order_by("order_id", "line_no").values(
        "order_id", "line_no", "product__sku", "product__title", "quantity", "unit_price", "returned_line_id")
    by_order: dict[int, list] = {}
    for line in lines:
        by_order.setdefault(line.pop("order_id"), []).append(line)
    orders = list(Order.objects.filter(customer_id=customer_id).order_by("placed_at", "id").values(
        "id", "external_id", "placed_at", "status", "currency", "total", "country"))
    for order in orders:
        order["lines"] = by_order.get(order["id"], [])
    return {
        "customer": customer,
        "consent_history": list(ConsentChange.objects.filter(customer_id=customer_id).order_by("changed_at", "id").values("consented", "source", "note", "changed_at")),
        "orders": orders,
        "reviews": list(Review.objects.filter(customer_id=customer_id).order_by("created_at", "id").values(
            "id", "external_id", "product__sku", "rating", "title", "text", "language", "created_at")),
        "events": list(Event.objects.filter(customer_id=customer_id).order_by("occurred_at", "id").values(
            "kind", "product__sku", "occurred_at", "properties")),
    }


def _size(section) -> int | dict:
    """Rows of a section: a count, or a count per part for a provider's dict of lists."""
    if isinstance(section, list):
        return len(section)
    if isinstance(section, dict) and section and all(isinstance(v, list) for v in section.values()):
        return {name: len(rows) for name, rows in section.items()}
    return 1


def customer_export_document(*, customer_id: int) -> dict:
    """Everything held on one customer, one section per table group (core, then each provider)."""
    document = _core_sections(customer_id)
    for provider in privacy_providers():
        document[provider.section] = provider.export(customer_id)
    sections = {name: _size(value) for name, value in document.items()}
    document["export"] = {"format_version": FORMAT_VERSION, "generated_at": timezone.now(), "customer_id": customer_id, "sections": sections}
    return document


# --- erasure --------------------------------------------------------------------------------

def _core_erase(customer: Customer, now) -> dict[str, int]:
    """PII of the customer row wiped, review texts removed, browsing events deleted, the external id
    replaced in webhook payloads. Orders and their lines are kept (bookkeeping), tied to the now
    anonymous row; consent history is kept as evidence."""
    reviews = Review.objects.filter(customer=customer).exclude(title="", text="").update(title="", text="")
    events, _ = Event.objects.filter(customer=customer).delete()
    erased_id = f"erased-{customer.pk}"
    payloads = webhook_payloads_scrub(external_id=customer.external_id, replacement=erased_id) if customer.external_id != erased_id else 0
    fields = sum(1 for value in (customer.email, customer.name, customer.country) if value) + (customer.external_id != erased_id)
    customer.external_id, customer.email, customer.name, customer.country = erased_id, "", "", ""
    customer.email_consent, customer.erased_at = False, customer.erased_at or now
    customer.save(update_fields=["external_id", "email", "name", "country", "email_consent", "erased_at", "updated_at"])
    return {"customer.pii_fields": fields, "reviews.texts_removed": reviews, "events": events, "webhook_payloads.scrubbed": payloads}


@transaction.atomic
def customer_erase(*, customer_id: int) -> dict:
    """Erase a customer (see _core_erase and the registered providers) in one transaction; safe twice."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    removed: dict[str, int] = {}
    retrain: set[str] = set()
    for provider in privacy_providers():  # before the core wipe: providers may match on the email
        if provider.erase is not None:
            report = provider.erase(customer_id)
            removed.update({f"{provider.section}.{name}": count for name, count in report.removed.items()})
            retrain.update(report.needs_retraining)
    removed.update(_core_erase(customer, timezone.now()))
    kept = {"orders": Order.objects.filter(customer=customer).count(), "consent_changes": ConsentChange.objects.filter(customer=customer).count()}
    log.info("customer %s erased: %s", customer_id, removed)
    return {"customer_id": customer_id, "erased_at": customer.erased_at.isoformat(), "removed": removed, "kept": kept, "needs_retraining": sorted(retrain)}
