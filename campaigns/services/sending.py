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
import queue
import smtplib
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from campaigns.models import Campaign, Delivery, Suppression, Variant
from campaigns.recommendations import recommendations_for_many
from campaigns.rendering import email_build, message_id_expression, message_render
from campaigns.services.lifecycle import campaign_finish_if_done, throttle_lane_interval_s
from campaigns.services.tracking import bounce_record
from customers.models import Customer

log = logging.getLogger(__name__)
LEASE_MARGIN_S = 30  # also covers clock skew between worker hosts
_CLAIM_TOKEN = Delivery._meta.get_field("claim_token")


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
    """Claim up to `limit` rows for this worker; returns the claim token and the claimed rows.

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so two lanes claiming at the same moment take
    disjoint rows instead of the second one finding its picks gone and ending its chain. SQLite
    serialises writers, and the UPDATE re-checks the WHERE on every backend.
    """
    ambiguous_resolve(campaign_id=campaign_id, now=now)
    token = uuid.uuid4()
    lease = now + timedelta(seconds=settings.CAMPAIGN_LEASE_SECONDS)
    with transaction.atomic():
        picks = Delivery.objects.filter(campaign_id=campaign_id).filter(_claimable(now)).order_by("id").select_for_update(skip_locked=True)
        ids = list(picks.values_list("id", flat=True)[:limit])
        if ids:
            # The address and Message-ID are fixed at claim, so the per-message "sent" mark that
            # follows each SMTP accept is one small statement for any number of rows.
            Delivery.objects.filter(id__in=ids).filter(_claimable(now)).update(
                status=Delivery.Status.SENDING, claim_token=token, lease_until=lease, smtp_started_at=None,
                email=Subquery(Customer.objects.filter(pk=OuterRef("customer_id")).values("email")[:1]),
                message_id=message_id_expression(),
            )
    rows = list(
        Delivery.objects.filter(campaign_id=campaign_id, claim_token=token, status=Delivery.Status.SENDING)
        .select_related("customer").only(*_SENDING_FIELDS).order_by("id")
    )
    variants = {v.pk: v for v in Variant.objects.filter(campaign_id=campaign_id)}  # not one copy of each body per row
    for row in rows:
        row.variant = variants.get(row.variant_id)
    return token, rows


# What sending and rendering read of a claimed row (rows are built 500 at a time).
_SENDING_FIELDS = (
    "id", "campaign_id", "customer_id", "variant_id", "status", "email", "attempts", "lease_until", "claim_token", "message_id",
    "customer__id", "customer__name", "customer__email", "customer__email_consent", "customer__country", "customer__external_id",
)


def _held(delivery: Delivery, token: uuid.UUID):
    return Delivery.objects.filter(pk=delivery.pk, claim_token=token, status=Delivery.Status.SENDING)


def _suppressed_reason(delivery: Delivery, suppressed_emails: set[str]) -> str:
    customer = delivery.customer
    if not customer.email_consent or not delivery.email:
        return "no email consent (unsubscribed or withdrawn) at send time"
    if delivery.email.lower() in suppressed_emails:
        return "address suppressed (hard bounce) at send time"
    return ""


def _classify(exc: Exception) -> Exception:
    """Transient: 4xx replies, dropped connections, timeouts. Permanent: 5xx replies."""
    if isinstance(exc, (TransientSendError, PermanentSendError)):
        return exc
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


def _handover(delivery: Delivery, token: uuid.UUID) -> bool:
    """Before SMTP, prove our claim still holds; False when another worker took the row over.

    Nobody may claim a row before its lease expires, so while ours has a safe margin left the
    at-least-once mode skips this write; the at-most-once mode always records the hand-over.
    """
    margin_left = delivery.lease_until and delivery.lease_until - timezone.now() > timedelta(seconds=LEASE_MARGIN_S)
    if settings.CAMPAIGN_RESEND_AMBIGUOUS and margin_left:
        return True
    return bool(_held(delivery, token).update(smtp_started_at=timezone.now()))


def _prepare(campaign: Campaign, delivery: Delivery, token: uuid.UUID, from_email: str, recommendations: list):
    """Render one message and prove the claim; None when another worker took the row over."""
    rendered = message_render(campaign=campaign, variant=delivery.variant, customer=delivery.customer, delivery_id=delivery.pk, recommendations=recommendations)
    if not _handover(delivery, token):
        return None
    delivery.attempts += 1
    return email_build(rendered, to=delivery.email, from_email=from_email)


def _mark_sent(deliveries: list[Delivery], token: uuid.UUID) -> None:
    """One UPDATE for every message SMTP accepted since the last one, each row still under our claim.

    Plain SQL: this runs once per message or two, and the ORM's query building cost more than
    the database's work (the address and Message-ID were written at claim).
    """
    if not deliveries:
        return
    table = Delivery._meta.db_table  # plain SQL below: the field converts the token as the ORM would
    marks = ", ".join(["%s"] * len(deliveries))
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sent_at = %s, claim_token = NULL, lease_until = NULL, error = '', attempts = attempts + 1 "
            f"WHERE id IN ({marks}) AND claim_token = %s AND status = %s",
            [Delivery.Status.SENT, timezone.now(), *[d.pk for d in deliveries], _CLAIM_TOKEN.get_db_prep_value(token, db_connection), Delivery.Status.SENDING],
        )
        marked = cursor.rowcount
    if marked < len(deliveries):
        log.error("%s of deliveries %s were sent after their lease expired; another worker may send them too", len(deliveries) - marked, [d.pk for d in deliveries])


class _Handoff:
    """SMTP connections in threads of their own, so a worker renders the next messages while earlier
    ones are on the wire (SMTP is four round trips a message; rendering is CPU).

    Only these threads touch the connections and only the caller's thread touches the database:
    outcomes come back on `done` and the caller records them as soon as it sees them. At most
    CAMPAIGN_SMTP_PIPELINE messages wait and one per connection is on the wire, which bounds the
    accepted-but-unrecorded messages a killed worker can leave behind (see the module docstring).
    """

    def __init__(self, connections: list, depth: int):
        self.connections = connections
        self.todo: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self.done: queue.Queue = queue.Queue()
        self.in_flight = 0
        self.threads = [threading.Thread(target=self._run, args=(c,), name=f"campaign-smtp-{i}", daemon=True) for i, c in enumerate(connections)]
        for thread in self.threads:
            thread.start()

    def _run(self, connection) -> None:
        while (item := self.todo.get()) is not None:
            delivery, message = item
            try:
                connection.open()  # no-op while open; reopens after a transient error closed it
                if not connection.send_messages([message]):
                    raise PermanentSendError("the mail backend accepted no recipient")
                self.done.put((delivery, None))
            except Exception as exc:  # noqa: BLE001 - classified and recorded by the caller
                error = _classify(exc)
                if isinstance(error, TransientSendError):
                    connection.close()  # a fresh connection for the next message
                self.done.put((delivery, error))

    def put(self, delivery: Delivery, message) -> None:
        self.in_flight += 1
        self.todo.put((delivery, message))

    def outcomes(self, *, wait: bool) -> list[tuple[Delivery, Exception | None]]:
        """What finished since the last call; wait=True blocks until nothing is in flight."""
        found = []
        while self.in_flight:
            try:
                found.append(self.done.get(block=wait))
            except queue.Empty:
                break
            self.in_flight -= 1
        return found

    def close(self) -> None:
        """Stop the threads. Messages still waiting (the batch failed midway) are dropped unsent:
        their rows keep the claim and are sent once after the lease expires."""
        while True:
            try:
                self.todo.get_nowait()
            except queue.Empty:
                break
        for _ in self.threads:
            self.todo.put(None)
        for thread in self.threads:
            thread.join(timeout=60)
        for connection in self.connections:
            connection.close()


class _Pacer:
    """Spreads a campaign's messages-per-minute over its parallel batch chains.

    One pacer lives for a whole send task (all its batches), and the task re-queues itself to start
    when the next message is due: a fresh pacer per batch let each batch's first message go at once
    (a one-message batch was not throttled at all).
    """

    def __init__(self, per_minute: int):
        self.interval = throttle_lane_interval_s(per_minute)
        self.next_at = time.monotonic()

    def due_in(self) -> float:
        """Seconds until the next message may go (0 when unthrottled or already due)."""
        return max(0.0, self.next_at - time.monotonic()) if self.interval else 0.0

    def wait(self) -> None:
        """Take the next slot: sleep until it is due (called before each message)."""
        if self.interval:
            if (delay := self.due_in()) > 0:
                time.sleep(delay)
            self.next_at = max(self.next_at, time.monotonic()) + self.interval


def _batch_limit(campaign: Campaign) -> int:
    limit = settings.CAMPAIGN_BATCH_SIZE
    if campaign.throttle_per_minute:
        lanes = max(1, settings.CAMPAIGN_SEND_CONCURRENCY)
        # A throttled batch lasts at most CAMPAIGN_THROTTLED_BATCH_SECONDS (the job's progress and
        # the stall watchdog's last_batch_at move per batch) and always well inside its lease.
        seconds = min(settings.CAMPAIGN_THROTTLED_BATCH_SECONDS, settings.CAMPAIGN_LEASE_SECONDS // 2)
        limit = min(limit, max(1, campaign.throttle_per_minute * seconds // 60 // lanes))
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


def campaign_send_batch(*, campaign_id: int, connection=None, may_wait: bool = True, pacer: _Pacer | None = None) -> BatchResult:
    """Claim and send one batch of a sending campaign; the task re-queues while state == 'more'.

    may_wait=False (a task run eagerly, inside the caller's request): the throttle never sleeps;
    the batch stops at the first message not yet due, its rest goes back to the queue and the
    state is 'retry_later' (the dispatcher's stall watchdog, or the next kick, sends on).
    """
    result = BatchResult()
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.SENDING:
        result.state = "stopped"
        return result
    token, rows = deliveries_claim(campaign_id=campaign_id, limit=_batch_limit(campaign), now=timezone.now())
    result.claimed = len(rows)
    if rows:
        _send_rows(campaign, rows, token, connection, result, may_wait=may_wait, pacer=pacer or _Pacer(campaign.throttle_per_minute))
    Campaign.objects.filter(pk=campaign_id).update(last_batch_at=timezone.now())
    if result.state == "stopped" or rows:
        return result
    return _after_empty_claim(campaign_id, result)


def campaign_send_batches(*, campaign_id: int, seconds: float, on_batch=None, may_wait: bool = True) -> BatchResult:
    """Batches back to back for up to `seconds`; the task re-queues while state == 'more'.

    A task hand-over costs about one broker poll (up to a second on Redis), which at 500 messages
    a batch was half of each worker's time; a few seconds of batches per task amortise it, while
    each batch keeps its own short claim and lease.
    """
    started, total = time.monotonic(), BatchResult()
    pacer = _Pacer(Campaign.objects.filter(pk=campaign_id).values_list("throttle_per_minute", flat=True).first() or 0)
    while True:
        result = campaign_send_batch(campaign_id=campaign_id, may_wait=may_wait, pacer=pacer)
        for name in ("claimed", "sent", "failed", "suppressed", "retried", "released"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        total.state, total.retry_in_s, total.errors = result.state, result.retry_in_s, (total.errors + result.errors)[-20:]
        if on_batch:
            on_batch(result)
        if result.state == "more" and (due_in := pacer.due_in()) > 0 and (not may_wait or time.monotonic() - started >= seconds):
            # the chain's next message is not due yet: the caller re-queues (or, inline, leaves it) until it is
            total.state, total.retry_in_s = "retry_later", due_in
            return total
        if result.state != "more" or time.monotonic() - started >= seconds:
            return total


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


def _send_rows(campaign: Campaign, rows: list[Delivery], token: uuid.UUID, connection, result: BatchResult, may_wait: bool, pacer: _Pacer) -> None:
    backend = settings.CAMPAIGN_EMAIL_BACKEND or settings.EMAIL_BACKEND
    connections = [connection] if connection else [get_connection(backend=backend) for _ in range(max(1, settings.CAMPAIGN_SMTP_CONNECTIONS))]
    from_email = campaign.from_email or settings.DEFAULT_FROM_EMAIL
    addresses = [d.email.lower() for d in rows]
    suppressed = set(Suppression.objects.annotate(address=Lower("email")).filter(address__in=addresses).values_list("address", flat=True))
    recommendations = recommendations_for_many([d.customer_id for d in rows], campaign.recommendations_count)
    handoff = _Handoff(connections, settings.CAMPAIGN_SMTP_PIPELINE)
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
                _record(campaign, handoff.outcomes(wait=True), token, result)
                _release(rows[index:], token, Delivery.Status.CANCELLED if status == Campaign.Status.CANCELLED else Delivery.Status.QUEUED, result)
                result.state = "stopped"
                return
            if not may_wait and (due_in := pacer.due_in()) > 0:
                _record(campaign, handoff.outcomes(wait=True), token, result)
                _release(rows[index:], token, Delivery.Status.QUEUED, result)
                result.state, result.retry_in_s = "retry_later", due_in
                return
            pacer.wait()
            _deliver(campaign, delivery, token, handoff, from_email, suppressed, recommendations.get(delivery.customer_id, []), result)
            _record(campaign, handoff.outcomes(wait=bool(pacer.interval)), token, result)  # settled before the next pacing sleep
        _record(campaign, handoff.outcomes(wait=True), token, result)
    finally:
        handoff.close()
        _synchronous_commit(True)


def _deliver(campaign, delivery, token, handoff, from_email, suppressed, recommendations, result) -> None:
    reason = _suppressed_reason(delivery, suppressed)
    if reason:
        result.suppressed += _held(delivery, token).update(status=Delivery.Status.SUPPRESSED, claim_token=None, error=reason)
        return
    try:
        message = _prepare(campaign, delivery, token, from_email, recommendations)
    except Exception as exc:  # noqa: BLE001 - a template that cannot render fails its delivery, not the batch
        _failed(campaign, delivery, token, _classify(exc), result)
        return
    if message is not None:
        handoff.put(delivery, message)


def _record(campaign: Campaign, outcomes: list, token: uuid.UUID, result: BatchResult) -> None:
    sent = [delivery for delivery, error in outcomes if error is None]
    _mark_sent(sent, token)
    result.sent += len(sent)
    for delivery, error in outcomes:
        if error is not None:
            _failed(campaign, delivery, token, error, result)


def _failed(campaign, delivery, token, error: Exception, result: BatchResult) -> None:
    result.errors.append(str(error)[:200])
    log.warning("campaign %s delivery %s: %s", campaign.pk, delivery.pk, error)
    _record_failure(delivery, token, error, timezone.now(), result)
