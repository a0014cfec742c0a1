"""Sending: claim a batch of ledger rows, render and hand each to SMTP, record the outcome.

Exactly-once rests on three conditional UPDATEs per delivery (docs/campaigns.md):
1. claim: queued -> sending with a fresh claim token and a lease (one UPDATE for the batch; a
   row claimed by another live worker is not claimable, so duplicate tasks share no rows);
2. hand-over: smtp_started_at is set (only while our token still holds the row) just before
   the SMTP DATA;
3. sent: status=sent, only while our token still holds the row, right after SMTP accepted.
A crashed worker's rows come back when the lease expires. Those never handed over are simply
sent; the one (per crashed connection) caught between SMTP accept and commit is ambiguous:
resent with the same Message-ID (CAMPAIGN_RESEND_AMBIGUOUS, at-least-once, the default) or
marked failed (at-most-once).
"""
from __future__ import annotations

import logging
import smtplib
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from campaigns.models import Campaign, Delivery, Suppression
from campaigns.rendering import email_build, message_render
from campaigns.services.lifecycle import campaign_finish_if_done
from campaigns.services.tracking import bounce_record

log = logging.getLogger(__name__)
LEASE_MARGIN_S = 30  # also covers clock skew between worker hosts


class TransientSendError(Exception):
    pass


class PermanentSendError(Exception):
    def __init__(self, message: str, *, hard_bounce: bool = False):
        super().__init__(message)
        self.hard_bounce = hard_bounce


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    retried: int = 0
    released: int = 0
    state: str = "more"  # more | retry_later | waiting | done | stopped
    retry_in_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def _claimable(now: datetime) -> Q:
    queued = Q(status=Delivery.Status.QUEUED) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return queued | Q(status=Delivery.Status.SENDING, lease_until__lt=now)


def ambiguous_resolve(*, campaign_id: int, now: datetime) -> int:
    """At-most-once mode: an expired claim whose hand-over began is marked failed, not resent."""
    if settings.CAMPAIGN_RESEND_AMBIGUOUS:
        return 0
    return Delivery.objects.filter(
        campaign_id=campaign_id, status=Delivery.Status.SENDING, lease_until__lt=now, smtp_started_at__isnull=False
    ).update(status=Delivery.Status.FAILED, error="worker lost during SMTP hand-over; outcome unknown (at-most-once: not resent)", claim_token=None)


def deliveries_claim(*, campaign_id: int, limit: int, now: datetime) -> tuple[uuid.UUID, list[Delivery]]:
    """Claim up to `limit` rows for this worker; returns the claim token and the claimed rows."""
    ambiguous_resolve(campaign_id=campaign_id, now=now)
    token = uuid.uuid4()
    ids = list(Delivery.objects.filter(campaign_id=campaign_id).filter(_claimable(now)).order_by("id").values_list("id", flat=True)[:limit])
    if ids:
        lease = now + timedelta(seconds=settings.CAMPAIGN_LEASE_SECONDS)
        # The WHERE is re-checked row by row (PostgreSQL re-evaluates it on a concurrently
        # updated row; SQLite serialises writers), so no row goes to two claimers.
        Delivery.objects.filter(id__in=ids).filter(_claimable(now)).update(
            status=Delivery.Status.SENDING, claim_token=token, lease_until=lease, smtp_started_at=None
        )
    rows = list(Delivery.objects.filter(campaign_id=campaign_id, claim_token=token, status=Delivery.Status.SENDING).select_related("customer", "variant").order_by("id"))
    return token, rows


def _held(delivery: Delivery, token: uuid.UUID):
    return Delivery.objects.filter(pk=delivery.pk, claim_token=token, status=Delivery.Status.SENDING)


def _suppressed_reason(delivery: Delivery, suppressed_emails: set[str]) -> str:
    customer = delivery.customer
    if not customer.email_consent or not customer.email:
        return "no email consent (unsubscribed or withdrawn) at send time"
    if customer.email.lower() in suppressed_emails:
        return "address suppressed (hard bounce) at send time"
    return ""


def _classify(exc: Exception) -> Exception:
    """Transient: 4xx replies, dropped connections, timeouts. Permanent: 5xx replies."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            return TransientSendError(f"recipient deferred: {exc.recipients}")
        return PermanentSendError(f"recipient refused: {exc.recipients}", hard_bounce=any(code >= 550 for code in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        if 400 <= exc.smtp_code < 500:
            return TransientSendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
        return PermanentSendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, socket.timeout, OSError)):
        return TransientSendError(f"{exc.__class__.__name__}: {exc}")
    return PermanentSendError(f"{exc.__class__.__name__}: {exc}")


def _record_failure(delivery: Delivery, token: uuid.UUID, error: Exception, now: datetime, result: BatchResult) -> None:
    if isinstance(error, TransientSendError) and delivery.attempts < settings.CAMPAIGN_MAX_ATTEMPTS:
        backoff = timedelta(seconds=min(3600, 30 * 2 ** (delivery.attempts - 1)))
        _held(delivery, token).update(status=Delivery.Status.QUEUED, claim_token=None, smtp_started_at=None, next_attempt_at=now + backoff, error=str(error)[:2000], attempts=delivery.attempts)
        result.retried += 1
        return
    _held(delivery, token).update(status=Delivery.Status.FAILED, claim_token=None, error=str(error)[:2000], attempts=delivery.attempts)
    result.failed += 1
    if isinstance(error, PermanentSendError) and error.hard_bounce:
        bounce_record(email=delivery.email, hard=True, note=f"campaign {delivery.campaign_id}: {error}"[:300])


def _handover(delivery: Delivery, token: uuid.UUID, message_id: str) -> bool:
    """Before SMTP, prove our claim still holds; False when another worker took the row over.

    Nobody may claim a row before its lease expires, so while ours has a safe margin left the
    at-least-once mode skips this write; the at-most-once mode always records the hand-over.
    """
    margin_left = delivery.lease_until and delivery.lease_until - timezone.now() > timedelta(seconds=LEASE_MARGIN_S)
    if settings.CAMPAIGN_RESEND_AMBIGUOUS and margin_left:
        return True
    return bool(_held(delivery, token).update(smtp_started_at=timezone.now(), email=delivery.customer.email, message_id=message_id))


def _send_one(campaign: Campaign, delivery: Delivery, token: uuid.UUID, connection, from_email: str) -> str:
    """Render and hand one message over; returns 'sent', 'lost' (claim taken over) or raises."""
    rendered = message_render(campaign=campaign, variant=delivery.variant, customer=delivery.customer, delivery_id=delivery.pk)
    if not _handover(delivery, token, rendered.message_id):
        return "lost"
    delivery.attempts += 1
    delivery.email = delivery.customer.email
    connection.open()  # no-op while open; reopens after a transient error closed it
    email_build(rendered, to=delivery.email, from_email=from_email, connection=connection).send()
    marked = _held(delivery, token).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), claim_token=None, lease_until=None, error="",
        email=delivery.email, message_id=rendered.message_id, attempts=delivery.attempts,
    )
    if not marked:
        log.error("delivery %s was sent after its lease expired; another worker may send it too", delivery.pk)
    return "sent"


class _Pacer:
    """Spreads a campaign's messages-per-minute over its parallel batch chains."""

    def __init__(self, per_minute: int):
        lanes = max(1, settings.CAMPAIGN_SEND_CONCURRENCY)
        self.interval = 60.0 * lanes / per_minute if per_minute else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if self.interval:
            delay = self.next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.next_at = max(self.next_at, time.monotonic()) + self.interval


def _batch_limit(campaign: Campaign) -> int:
    limit = settings.CAMPAIGN_BATCH_SIZE
    if campaign.throttle_per_minute:
        lanes = max(1, settings.CAMPAIGN_SEND_CONCURRENCY)
        # A throttled batch must finish well inside its lease.
        limit = min(limit, max(1, campaign.throttle_per_minute * settings.CAMPAIGN_LEASE_SECONDS // 120 // lanes))
    return limit


def _release(rows: list[Delivery], token: uuid.UUID, status: str, result: BatchResult) -> None:
    ids = [d.pk for d in rows]
    result.released += Delivery.objects.filter(pk__in=ids, claim_token=token, status=Delivery.Status.SENDING, smtp_started_at__isnull=True).update(
        status=status, claim_token=None, lease_until=None
    )


def _synchronous_commit(on: bool) -> None:
    """PostgreSQL: the per-message marks need not wait for the WAL flush (CAMPAIGN_ASYNC_COMMIT).

    A killed worker loses nothing (the server has the commit); only a database server crash
    can forget the last fraction of a second of marks, whose messages then count as ambiguous.
    """
    if db_connection.vendor == "postgresql" and settings.CAMPAIGN_ASYNC_COMMIT:
        with db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit" if on else "SET synchronous_commit TO OFF")


def _still_sending(campaign_id: int) -> str:
    return Campaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first() or Campaign.Status.CANCELLED


def campaign_send_batch(*, campaign_id: int, connection=None) -> BatchResult:
    """Claim and send one batch of a sending campaign; the task re-queues while state == 'more'."""
    result = BatchResult()
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.SENDING:
        result.state = "stopped"
        return result
    token, rows = deliveries_claim(campaign_id=campaign_id, limit=_batch_limit(campaign), now=timezone.now())
    result.claimed = len(rows)
    if rows:
        _send_rows(campaign, rows, token, connection, result)
    Campaign.objects.filter(pk=campaign_id).update(last_batch_at=timezone.now())
    if result.state == "stopped" or rows:
        return result
    return _after_empty_claim(campaign_id, result)


def _after_empty_claim(campaign_id: int, result: BatchResult) -> BatchResult:
    now = timezone.now()
    if campaign_finish_if_done(campaign_id=campaign_id, now=now):
        result.state = "done"
        return result
    later = Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.QUEUED, next_attempt_at__gt=now).order_by("next_attempt_at").first()
    if later:
        result.state, result.retry_in_s = "retry_later", (later.next_attempt_at - now).total_seconds()
    else:
        result.state = "waiting"  # rows held by another live claim; the dispatcher's watchdog re-kicks if it dies
    return result


def _send_rows(campaign: Campaign, rows: list[Delivery], token: uuid.UUID, connection, result: BatchResult) -> None:
    backend = settings.CAMPAIGN_EMAIL_BACKEND or settings.EMAIL_BACKEND
    connection = connection or get_connection(backend=backend)
    from_email = campaign.from_email or settings.DEFAULT_FROM_EMAIL
    addresses = [d.customer.email.lower() for d in rows]
    suppressed = set(Suppression.objects.annotate(address=Lower("email")).filter(address__in=addresses).values_list("address", flat=True))
    pacer = _Pacer(campaign.throttle_per_minute)
    checked_at = beat_at = time.monotonic()
    _synchronous_commit(False)
    try:
        for index, delivery in enumerate(rows):
            # Pause/cancel is honoured within 20 messages or 2 seconds, whichever comes first.
            if index % 20 == 0 or time.monotonic() - checked_at > 2.0:
                checked_at, status = time.monotonic(), _still_sending(campaign.pk)
                if checked_at - beat_at > 30:  # a long throttled batch is alive, not stalled
                    beat_at = checked_at
                    Campaign.objects.filter(pk=campaign.pk).update(last_batch_at=timezone.now())
            else:
                status = Campaign.Status.SENDING
            if status != Campaign.Status.SENDING:
                _release(rows[index:], token, Delivery.Status.CANCELLED if status == Campaign.Status.CANCELLED else Delivery.Status.QUEUED, result)
                result.state = "stopped"
                return
            _deliver(campaign, delivery, token, connection, from_email, suppressed, result)
            pacer.wait()
    finally:
        _synchronous_commit(True)
        connection.close()


def _deliver(campaign, delivery, token, connection, from_email, suppressed, result) -> None:
    reason = _suppressed_reason(delivery, suppressed)
    if reason:
        result.suppressed += _held(delivery, token).update(status=Delivery.Status.SUPPRESSED, claim_token=None, error=reason)
        return
    try:
        outcome = _send_one(campaign, delivery, token, connection, from_email)
        result.sent += outcome == "sent"
    except Exception as exc:  # noqa: BLE001 - every SMTP/render failure is classified and recorded on the row
        error = _classify(exc)
        result.errors.append(str(error)[:200])
        log.warning("campaign %s delivery %s: %s", campaign.pk, delivery.pk, error)
        _record_failure(delivery, token, error, timezone.now(), result)
        if isinstance(error, TransientSendError):
            connection.close()  # a fresh connection for the next message
