"""Webhook subscriptions and deliveries: emitting events, signing, sending, retrying, pausing.

Other code emits an event with `webhook_event_emit(event=..., payload=...)`: one delivery row per
active subscription to that event is written in the caller's transaction and its send is queued
once that transaction commits (task customers.webhook_deliver). Each attempt POSTs the same body
with a fresh timestamp, signed `HMAC-SHA256(secret, f"{timestamp}.{body}")`; a failure is retried
with exponential backoff up to WEBHOOK_MAX_ATTEMPTS, and WEBHOOK_PAUSE_AFTER_FAILURES failed
attempts in a row pause the subscription until staff resume it.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from customers.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-CLM-Signature"
TIMESTAMP_HEADER = "X-CLM-Timestamp"
EVENT_HEADER = "X-CLM-Event"
DELIVERY_HEADER = "X-CLM-Delivery"


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `v1=` signature of one attempt: hex HMAC-SHA256 over "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def webhook_url_validate(url: str) -> None:
    """http(s) only; loopback, private and link-local hosts only where WEBHOOK_ALLOW_PRIVATE_HOSTS."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"Webhook URL must be http(s) with a host, not {url!r}.")
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except socket.gaierror as exc:
        raise ValidationError(f"Webhook host {parts.hostname!r} does not resolve.") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise ValidationError(f"Webhook host {parts.hostname!r} resolves to a non-public address ({ip}).")


def _events_validate(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown or not events:
        raise ValidationError(f"Unknown or no events {unknown}; expected some of {sorted(WebhookEvent.values)}.")
    return sorted(set(events))


@transaction.atomic
def webhook_subscription_create(*, name: str, url: str, events: list[str], secret: str = "") -> WebhookSubscription:
    """A new active subscription; an empty secret is generated (return it to the partner once)."""
    webhook_url_validate(url)
    subscription = WebhookSubscription(name=name, url=url, events=_events_validate(events), secret=secret or f"whsec_{secrets.token_urlsafe(32)}")
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def webhook_subscription_update(*, subscription_id: int, **fields) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if "url" in fields:
        webhook_url_validate(fields["url"])
    if "events" in fields:
        fields["events"] = _events_validate(fields["events"])
    for name, value in fields.items():
        setattr(subscription, name, value)
    subscription.full_clean()
    subscription.save(update_fields=[*fields, "updated_at"])
    return subscription


def webhook_subscription_delete(*, subscription_id: int) -> None:
    """The subscription and its delivery log (queued sends find no row and stop)."""
    WebhookSubscription.objects.filter(pk=subscription_id).delete()


def webhook_subscription_pause(*, subscription_id: int, reason: str = "paused by staff") -> bool:
    return bool(WebhookSubscription.objects.filter(pk=subscription_id, is_active=True).update(
        is_active=False, paused_reason=reason[:300], updated_at=timezone.now()))


@transaction.atomic
def webhook_subscription_resume(*, subscription_id: int) -> bool:
    """Active again with a clean failure count; its waiting deliveries are queued again (failed ones
    stay failed: redeliver them)."""
    resumed = bool(WebhookSubscription.objects.filter(pk=subscription_id, is_active=False).update(
        is_active=True, paused_reason="", consecutive_failures=0, updated_at=timezone.now()))
    if resumed:
        waiting = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
        ids = list(WebhookDelivery.objects.filter(subscription_id=subscription_id, status__in=waiting).values_list("pk", flat=True))
        transaction.on_commit(lambda: _enqueue(ids))
    return resumed


def _subscribers(event: str):
    # JSONField `contains` on a list is not portable to SQLite, so filter the (few) active rows here.
    return [s for s in WebhookSubscription.objects.filter(is_active=True).only("id", "events") if event in s.events]


def webhook_event_wanted(*, event: str) -> bool:
    """Whether any active subscription takes `event` (lets callers skip building a costly payload)."""
    return bool(_subscribers(event))


def webhook_customers(*, external_ids, count: int) -> dict:
    """The customers part of a batched event: the exact count and at most WEBHOOK_MAX_CUSTOMERS ids."""
    listed = list(external_ids[: settings.WEBHOOK_MAX_CUSTOMERS])
    return {"count": count, "external_ids": listed, "truncated": count > len(listed)}


def webhook_event_emit(*, event: str, payload: dict) -> int:
    """Record one delivery per active subscriber and queue the sends after commit; returns how many."""
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}; expected one of {WebhookEvent.values}.")
    subscribers = _subscribers(event)
    if not subscribers:
        return 0
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))  # dates and decimals as the JSON they are sent as
    with transaction.atomic():
        event_id = WebhookDelivery._meta.get_field("event_id").default()
        rows = WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(subscription_id=s.pk, event_id=event_id, event=event, payload=payload) for s in subscribers])
        ids = [row.pk for row in rows] if all(row.pk for row in rows) else list(
            WebhookDelivery.objects.filter(event_id=event_id).values_list("pk", flat=True))
        transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def _enqueue(delivery_ids: list[int], countdown: float | None = None) -> None:
    from customers.tasks import webhook_deliver

    for delivery_id in delivery_ids:
        webhook_deliver.apply_async(kwargs={"delivery_id": delivery_id}, countdown=countdown)


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The body of every attempt of a delivery (the same bytes each time; only the timestamp changes)."""
    document = {"id": str(delivery.event_id), "event": delivery.event, "created_at": delivery.created_at.isoformat(), "data": delivery.payload}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer (3xx), never followed
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """(status code or None, error text) of one POST with WEBHOOK_TIMEOUT_SECONDS."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - webhook_url_validate admits http(s) only
    try:
        with _OPENER.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"


@dataclass(frozen=True)
class AttemptOutcome:
    status: str  # the delivery's status afterwards, or "skipped"
    retry_in: float | None = None  # seconds until the next attempt when one is due


def _claim(delivery_id: int) -> bool:
    """pending/retrying -> sending, so two workers never send one attempt twice."""
    claimable = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
    return bool(WebhookDelivery.objects.filter(pk=delivery_id, status__in=claimable, subscription__is_active=True).update(
        status=WebhookDelivery.Status.SENDING, last_attempt_at=timezone.now()))


def webhook_delivery_attempt(*, delivery_id: int) -> AttemptOutcome:
    """Send one attempt of a delivery and record it (see the module doc); safe to call twice."""
    if not _claim(delivery_id):
        return AttemptOutcome("skipped")
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription, body, timestamp = delivery.subscription, webhook_body(delivery), int(time.time())
    try:
        webhook_url_validate(subscription.url)
        code, error = _post(subscription.url, body, _headers(delivery, subscription.secret, timestamp, body))
    except ValidationError as exc:
        code, error = None, "; ".join(exc.messages)
    if code is not None and 200 <= code < 300:
        return _record_success(delivery, code)
    return _record_failure(delivery, code, error or f"HTTP {code}")


def _headers(delivery: WebhookDelivery, secret: str, timestamp: int, body: bytes) -> dict:
    return {
        "Content-Type": "application/json", "User-Agent": "clm-webhooks/1",
        EVENT_HEADER: delivery.event, DELIVERY_HEADER: str(delivery.pk), TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=timestamp, body=body),
    }


@transaction.atomic
def _record_success(delivery: WebhookDelivery, code: int) -> AttemptOutcome:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.DELIVERED, attempts=F("attempts") + 1, response_code=code, last_error="",
        delivered_at=now, next_attempt_at=None)
    WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(consecutive_failures=0)
    return AttemptOutcome(WebhookDelivery.Status.DELIVERED)


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: base * 2^(attempts-1) (30 s, 1 min, 2 min, ... by default)."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1)


@transaction.atomic
def _record_failure(delivery: WebhookDelivery, code: int | None, error: str) -> AttemptOutcome:
    attempts = delivery.attempts + 1
    subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
    subscription.consecutive_failures += 1
    subscription.save(update_fields=["consecutive_failures"])
    paused = subscription.consecutive_failures >= settings.WEBHOOK_PAUSE_AFTER_FAILURES
    if paused:
        webhook_subscription_pause(subscription_id=subscription.pk, reason=f"paused after {subscription.consecutive_failures} failed attempts in a row: {error}")
    retry = attempts < settings.WEBHOOK_MAX_ATTEMPTS and not paused
    delay = retry_delay(attempts) if retry else None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.RETRYING if retry else WebhookDelivery.Status.FAILED, attempts=attempts,
        response_code=code, last_error=error[:2000], next_attempt_at=timezone.now() + timedelta(seconds=delay) if retry else None)
    log.warning("webhook delivery %s attempt %s failed: %s", delivery.pk, attempts, error)
    return AttemptOutcome(WebhookDelivery.Status.RETRYING if retry else WebhookDelivery.Status.FAILED, delay)


def _replace_exact(value, old: str, new: str):
    if isinstance(value, dict):
        return {key: _replace_exact(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_exact(item, old, new) for item in value]
    return new if value == old else value


def webhook_payloads_scrub(*, external_id: str, replacement: str) -> int:
    """Replace a customer's external id wherever a stored payload lists it (GDPR erasure); returns
    the deliveries changed. Unsent ones then go out with the replacement."""
    changed = 0
    for delivery in WebhookDelivery.objects.filter(payload__icontains=external_id).only("id", "payload"):
        payload = _replace_exact(delivery.payload, external_id, replacement)
        if payload != delivery.payload:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=payload)
            changed += 1
    return changed


def webhook_redeliver(*, delivery_ids: list[int]) -> int:
    """Queue deliveries again from a fresh attempt count (staff's "redeliver"); returns how many."""
    # A row left "sending" by a killed worker can be redelivered once its attempt has surely timed out.
    in_flight = timezone.now() - timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    with transaction.atomic():
        rows = WebhookDelivery.objects.filter(pk__in=delivery_ids).exclude(status=WebhookDelivery.Status.SENDING, last_attempt_at__gt=in_flight)
        ids = list(rows.values_list("pk", flat=True))
        WebhookDelivery.objects.filter(pk__in=ids).update(status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=None)
        transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)
