"""Exactly-once sending: claims, leases, crash points, duplicate tasks, pause/resume/cancel,
suppression at send time (in-memory mail backend)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Delivery, Suppression
from campaigns.services import sending
from campaigns.services.lifecycle import campaign_cancel, campaign_pause, campaign_resume, campaign_start, ledger_freeze
from campaigns.services.sending import campaign_send_batch, deliveries_claim
from campaigns.services.tracking import delivery_unsubscribe
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(settings):
    settings.CAMPAIGN_BATCH_SIZE = 5
    for i in range(12):
        CustomerFactory(email=f"c{i}@example.com")
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    campaign_start(campaign_id=variant.campaign_id)  # on_commit is not run here: nothing is sent yet
    return Campaign.objects.get(pk=variant.campaign_id)


def _recipients(outbox) -> list[str]:
    return sorted(m.to[0] for m in outbox)


def _expire(qs) -> None:
    qs.update(lease_until=timezone.now() - dt.timedelta(seconds=1))


def test_start_twice_freezes_one_ledger_row_per_customer(campaign):
    # given a started campaign, when start and freeze run again, then nothing changes: still one row per customer
    assert not campaign_start(campaign_id=campaign.pk)
    ledger_freeze(campaign)
    assert Delivery.objects.count() == 12
    assert Delivery.objects.values("customer").distinct().count() == 12


def test_batches_send_each_customer_once_and_finish_the_campaign(campaign, mailoutbox):
    # given a 12-customer ledger and batches of 5, when batches run until done and once more (a duplicate task), then each customer got exactly one message
    states = [campaign_send_batch(campaign_id=campaign.pk).state for _ in range(4)]
    extra = campaign_send_batch(campaign_id=campaign.pk)
    assert states == ["more", "more", "more", "done"]
    assert extra.state == "stopped" and extra.sent == 0
    assert _recipients(mailoutbox) == sorted(f"c{i}@example.com" for i in range(12))
    assert Campaign.objects.get().status == Campaign.Status.SENT


def test_two_claims_never_share_a_row(campaign):
    # given two workers claiming at once, when both claim, then their rows are disjoint and each row carries its claimer's token
    token_a, rows_a = deliveries_claim(campaign_id=campaign.pk, limit=5, now=timezone.now())
    token_b, rows_b = deliveries_claim(campaign_id=campaign.pk, limit=5, now=timezone.now())
    assert len(rows_a) == len(rows_b) == 5
    assert not {d.pk for d in rows_a} & {d.pk for d in rows_b}
    assert Delivery.objects.filter(claim_token=token_a).count() == 5


def test_crash_before_handover_rows_wait_for_lease_then_are_sent_once(campaign, mailoutbox):
    # given a worker that claimed 5 rows and died before sending, when batches run before and after the lease expires, then those rows are sent exactly once, only after expiry
    _, rows = deliveries_claim(campaign_id=campaign.pk, limit=5, now=timezone.now())
    while campaign_send_batch(campaign_id=campaign.pk).state == "more":
        pass
    assert len(mailoutbox) == 7
    _expire(Delivery.objects.filter(pk__in=[d.pk for d in rows]))
    while campaign_send_batch(campaign_id=campaign.pk).state == "more":
        pass
    assert _recipients(mailoutbox) == sorted(f"c{i}@example.com" for i in range(12))
    assert Campaign.objects.get().status == Campaign.Status.SENT


def test_crash_after_sent_commit_is_never_resent(campaign, mailoutbox):
    # given the first batch was sent and committed, when the worker dies and batches run again, then those customers get nothing more
    campaign_send_batch(campaign_id=campaign.pk)
    _expire(Delivery.objects.all())
    while campaign_send_batch(campaign_id=campaign.pk).state == "more":
        pass
    assert len(mailoutbox) == 12 and len(set(_recipients(mailoutbox))) == 12


@pytest.mark.parametrize("resend, expected_status, expected_mails", [(True, Delivery.Status.SENT, 1), (False, Delivery.Status.FAILED, 0)])
def test_ambiguous_handover_follows_the_configured_choice(campaign, mailoutbox, settings, resend, expected_status, expected_mails):
    # given a row whose SMTP hand-over began but whose "sent" never committed, when its lease expires, then it is resent with the same Message-ID (at-least-once) or marked failed (at-most-once)
    settings.CAMPAIGN_RESEND_AMBIGUOUS = resend
    _, rows = deliveries_claim(campaign_id=campaign.pk, limit=1, now=timezone.now())
    row = rows[0]
    Delivery.objects.filter(pk=row.pk).update(smtp_started_at=timezone.now(), message_id="<kept@example.com>", attempts=1)
    _expire(Delivery.objects.filter(pk=row.pk))
    while campaign_send_batch(campaign_id=campaign.pk).state == "more":
        pass
    row.refresh_from_db()
    assert row.status == expected_status
    assert sum(m.to[0] == row.customer.email for m in mailoutbox) == expected_mails
    if resend:
        assert next(m for m in mailoutbox if m.to[0] == row.customer.email).extra_headers["Message-ID"] == row.message_id


def test_a_claim_taken_over_after_lease_expiry_is_not_sent_by_the_old_worker(campaign, mailoutbox):
    # given worker A's claim expired and worker B re-claimed the rows, when A wakes up and tries to send, then A sends nothing
    token_a, rows_a = deliveries_claim(campaign_id=campaign.pk, limit=3, now=timezone.now())
    _expire(Delivery.objects.filter(claim_token=token_a))
    for row in rows_a:  # A stalled past its lease
        row.lease_until = timezone.now() - dt.timedelta(seconds=1)
    deliveries_claim(campaign_id=campaign.pk, limit=3, now=timezone.now())
    result = sending.BatchResult()
    sending._send_rows(campaign, rows_a, token_a, None, result, may_wait=True, pacer=sending._Pacer(0))
    assert result.sent == 0 and mailoutbox == []


def test_pause_stops_and_resume_continues_where_it_stopped(campaign, mailoutbox, django_capture_on_commit_callbacks):
    # given one batch sent, when paused then resumed, then the paused batch sends nothing and resume sends the rest, each customer exactly once
    campaign_send_batch(campaign_id=campaign.pk)
    assert campaign_pause(campaign_id=campaign.pk)
    assert campaign_send_batch(campaign_id=campaign.pk).state == "stopped"
    assert len(mailoutbox) == 5
    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_resume(campaign_id=campaign.pk)
    assert _recipients(mailoutbox) == sorted(f"c{i}@example.com" for i in range(12))
    assert Campaign.objects.get().status == Campaign.Status.SENT


def test_pause_in_the_middle_of_a_batch_releases_the_unsent_rows(campaign, mailoutbox, settings):
    # given a batch of 25 claimed rows, when the campaign is paused while it sends, then the rest of the batch goes back to queued unsent
    settings.CAMPAIGN_BATCH_SIZE = 25
    token, rows = deliveries_claim(campaign_id=campaign.pk, limit=12, now=timezone.now())
    campaign_pause(campaign_id=campaign.pk)
    result = sending.BatchResult()
    sending._send_rows(campaign, rows, token, None, result, may_wait=True, pacer=sending._Pacer(0))
    assert result.state == "stopped" and result.released == 12 and mailoutbox == []
    assert Delivery.objects.filter(status=Delivery.Status.QUEUED).count() == 12


def test_cancel_cancels_queued_deliveries_and_sends_nothing_more(campaign, mailoutbox):
    # given one batch sent, when cancelled, then later batches stop, queued rows are cancelled and the campaign is cancelled
    campaign_send_batch(campaign_id=campaign.pk)
    assert campaign_cancel(campaign_id=campaign.pk)
    assert campaign_send_batch(campaign_id=campaign.pk).state == "stopped"
    assert len(mailoutbox) == 5
    assert Delivery.objects.filter(status=Delivery.Status.CANCELLED).count() == 7
    assert not campaign_resume(campaign_id=campaign.pk)


def test_unsubscribe_and_hard_bounce_after_freeze_are_suppressed_at_send_time(campaign, mailoutbox):
    # given a customer who unsubscribed and an address that hard-bounced after the ledger froze, when sending, then both are suppressed with a reason
    first, second = Delivery.objects.order_by("id")[:2]
    delivery_unsubscribe(delivery_id=first.pk)
    Suppression.objects.create(email=second.customer.email.upper(), reason=Suppression.Reason.HARD_BOUNCE)
    while campaign_send_batch(campaign_id=campaign.pk).state == "more":
        pass
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Delivery.Status.SUPPRESSED, Delivery.Status.SUPPRESSED)
    assert "consent" in first.error and "bounce" in second.error
    assert len(mailoutbox) == 10


def test_throttle_spreads_messages_per_minute_over_lanes_and_bounds_the_batch(settings):
    # given 120 messages a minute over 2 lanes and a 600 s lease, when pacing, then each lane sends one every second and a batch holds 10 s of messages
    settings.CAMPAIGN_SEND_CONCURRENCY, settings.CAMPAIGN_LEASE_SECONDS, settings.CAMPAIGN_BATCH_SIZE = 2, 600, 1000
    settings.CAMPAIGN_THROTTLED_BATCH_SECONDS = 10
    assert sending._Pacer(120).interval == 1.0
    assert sending._Pacer(0).interval == 0.0
    assert sending._batch_limit(Campaign(throttle_per_minute=120)) == 10
    assert sending._batch_limit(Campaign(throttle_per_minute=600)) == 50
    assert sending._batch_limit(Campaign(throttle_per_minute=0)) == 1000
    # and a short lease still bounds it to half the lease
    settings.CAMPAIGN_LEASE_SECONDS = 8
    assert sending._batch_limit(Campaign(throttle_per_minute=120)) == 4


def test_claim_token_guards_every_write():
    # given a foreign token, when the guarded query is built, then it matches no row
    assert not sending._held(Delivery(pk=1), uuid.uuid4()).exists()


def test_errors_are_classified_transient_or_permanent():
    # given SMTP failures of each kind, when classified, then 4xx and dropped connections are transient, 5xx permanent and 55x recipient refusals hard bounces
    import smtplib

    assert isinstance(sending._classify(smtplib.SMTPServerDisconnected("gone")), sending.TransientSendError)
    assert isinstance(sending._classify(smtplib.SMTPDataError(421, b"busy")), sending.TransientSendError)
    assert isinstance(sending._classify(smtplib.SMTPDataError(554, b"spam")), sending.PermanentSendError)
    refused = sending._classify(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such user")}))
    assert isinstance(refused, sending.PermanentSendError) and refused.hard_bounce
    assert not sending._classify(smtplib.SMTPDataError(554, b"spam")).hard_bounce


def test_transient_errors_fail_the_delivery_after_the_last_attempt(campaign, settings):
    # given a delivery at its last allowed attempt, when a transient error is recorded, then it fails instead of being retried
    settings.CAMPAIGN_MAX_ATTEMPTS = 2
    token, rows = deliveries_claim(campaign_id=campaign.pk, limit=1, now=timezone.now())
    rows[0].attempts = 2
    result = sending.BatchResult()
    sending._record_failure(rows[0], token, sending.TransientSendError("421 busy"), timezone.now(), result)
    rows[0].refresh_from_db()
    assert rows[0].status == Delivery.Status.FAILED and result.failed == 1 and "421" in rows[0].error


def test_claim_fixes_address_and_message_id_for_the_sent_mark(campaign):
    # given a customer who changes address after the ledger froze, when a batch is claimed, then the row holds the current address and the Message-ID rendering uses
    from campaigns.rendering import message_id

    first = Delivery.objects.order_by("id").first()
    first.customer.email = "new-address@example.com"
    first.customer.save(update_fields=["email"])
    _, rows = deliveries_claim(campaign_id=campaign.pk, limit=2, now=timezone.now())
    assert rows[0].email == "new-address@example.com"
    assert all(r.message_id == message_id(campaign.pk, r.pk) for r in rows)


def test_one_call_sends_batches_back_to_back_until_done(campaign, mailoutbox):
    # given 12 customers and batches of 5, when one task-sized call runs with time to spare, then all are sent in it and the campaign is sent
    result = sending.campaign_send_batches(campaign_id=campaign.pk, seconds=60)
    assert (result.state, result.sent, result.claimed) == ("done", 12, 12)
    assert _recipients(mailoutbox) == sorted(f"c{i}@example.com" for i in range(12))
    assert Campaign.objects.get().status == Campaign.Status.SENT


def test_a_spent_time_budget_returns_after_one_batch(campaign, mailoutbox):
    # given no time budget, when the call runs, then one batch goes and the task is told there is more
    result = sending.campaign_send_batches(campaign_id=campaign.pk, seconds=0)
    assert (result.state, result.sent) == ("more", 5) and len(mailoutbox) == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_skip_locked_rows_instead_of_coming_back_empty(settings):
    # given another lane holding row locks on the first rows (PostgreSQL), when this lane claims, then it gets the next rows, not nothing
    import threading

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is a PostgreSQL path; SQLite serialises writers")
    settings.CAMPAIGN_BATCH_SIZE = 5
    for i in range(10):
        CustomerFactory(email=f"l{i}@example.com")
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    ledger_freeze(campaign=Campaign.objects.get(pk=variant.campaign_id))
    locked, release = threading.Event(), threading.Event()

    def other_lane() -> None:
        with transaction.atomic():
            list(Delivery.objects.select_for_update().order_by("id").values_list("id", flat=True)[:5])
            locked.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=other_lane)
    thread.start()
    try:
        assert locked.wait(10)
        _, rows = deliveries_claim(campaign_id=variant.campaign_id, limit=5, now=timezone.now())
    finally:
        release.set()
        thread.join()
    first_five = list(Delivery.objects.order_by("id").values_list("id", flat=True)[:5])
    assert len(rows) == 5 and not {r.pk for r in rows} & set(first_five)


def test_a_batch_that_fails_midway_sends_nothing_it_had_not_handed_over(campaign, mailoutbox, monkeypatch):
    # given a database error while recording the third outcome, when the batch dies, then no message queued behind it goes out and the unrecorded rows keep their claim for the lease to expire
    calls = {"n": 0}
    real = sending._mark_sent

    def failing(deliveries, token):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database went away")
        real(deliveries, token)

    monkeypatch.setattr(sending, "_mark_sent", failing)
    with pytest.raises(RuntimeError):
        campaign_send_batch(campaign_id=campaign.pk)
    sent_rows = Delivery.objects.filter(status=Delivery.Status.SENT).count()
    held = Delivery.objects.filter(status=Delivery.Status.SENDING).count()
    assert sent_rows + held == 5 and len(mailoutbox) <= sent_rows + sending.settings.CAMPAIGN_SMTP_PIPELINE + sending.settings.CAMPAIGN_SMTP_CONNECTIONS


def test_the_throttle_holds_across_batches_and_tells_the_task_when_the_next_message_is_due(campaign, mailoutbox, monkeypatch, settings):
    # given 60 messages a minute on one lane in batches of 2 (a virtual clock), when a worker's task sends for 4.5 s, then messages go one second apart across the batch boundaries and the task hands over with the next one's due time (a fresh pacer per batch let each batch's first message go at once)
    settings.CAMPAIGN_SEND_CONCURRENCY, settings.CAMPAIGN_THROTTLED_BATCH_SECONDS = 1, 2
    Campaign.objects.filter(pk=campaign.pk).update(throttle_per_minute=60)
    clock = [1000.0]
    monkeypatch.setattr(sending.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(sending.time, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    sent_at, deliver = [], sending._deliver
    monkeypatch.setattr(sending, "_deliver", lambda *args: (sent_at.append(clock[0]), deliver(*args)))
    result = sending.campaign_send_batches(campaign_id=campaign.pk, seconds=4.5)
    assert sent_at == [1000.0, 1001.0, 1002.0, 1003.0, 1004.0, 1005.0]
    assert (result.state, result.sent, len(mailoutbox)) == ("retry_later", 6, 6)
    assert result.retry_in_s == pytest.approx(1.0)


def test_a_batch_that_may_not_wait_sends_what_is_due_and_queues_the_rest(campaign, mailoutbox, monkeypatch):
    # given a throttled campaign (one message a minute) and a caller that must not be held, when a batch runs with may_wait=False, then one message goes, the claimed rest is back in the queue and nothing slept
    Campaign.objects.filter(pk=campaign.pk).update(throttle_per_minute=60)
    monkeypatch.setattr(sending.time, "sleep", lambda seconds: pytest.fail(f"slept {seconds} s in the caller"))
    result = campaign_send_batch(campaign_id=campaign.pk, may_wait=False)
    assert (result.state, result.sent, result.claimed, result.released) == ("retry_later", 1, result.claimed, result.claimed - 1)
    assert result.claimed > 1 and result.retry_in_s > 0 and len(mailoutbox) == 1
    assert Delivery.objects.filter(status=Delivery.Status.QUEUED, claim_token__isnull=True).count() == 11
    assert Campaign.objects.get().status == Campaign.Status.SENDING
