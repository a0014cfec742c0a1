"""Webhooks against a real receiver on 127.0.0.1: signed deliveries, retries with backoff, pausing."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from customers.tasks import webhook_deliver
from customers.webhooks import services
from customers.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.customers.webhooks.conftest import SECRET

pytestmark = pytest.mark.django_db


def _subscribe(receiver, events=("import.finished",)) -> WebhookSubscription:
    return services.webhook_subscription_create(name="partner", url=receiver.url, events=list(events), secret=SECRET)


def test_an_emitted_event_is_posted_once_committed_signed_and_verified_by_the_receiver(receiver, django_capture_on_commit_callbacks):
    # given a subscription to import.finished, when the event is emitted and the transaction commits, then the receiver gets one POST whose signature verifies
    subscription = _subscribe(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_event_emit(event="import.finished", payload={"batch_id": 7, "status": "succeeded"}) == 1
        assert receiver.received == []  # nothing leaves before commit
    [hit] = receiver.received
    delivery = WebhookDelivery.objects.get()
    assert hit.problem is None
    assert hit.document["event"] == "import.finished" and hit.document["data"] == {"batch_id": 7, "status": "succeeded"}
    assert hit.document["id"] == str(delivery.event_id) and hit.headers["X-CLM-Delivery"] == str(delivery.pk)
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.response_code == 200
    assert delivery.subscription_id == subscription.pk


def test_a_wrong_secret_fails_verification_at_the_receiver(receiver, django_capture_on_commit_callbacks):
    # given a subscription whose secret the receiver does not hold, when an event is sent, then the receiver refuses it and the delivery records the 400
    services.webhook_subscription_create(name="x", url=receiver.url, events=["import.finished"], secret="whsec_other")
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(event="import.finished", payload={})
    assert receiver.received[0].problem == "signature mismatch"
    assert WebhookDelivery.objects.get().response_code == 400


def test_events_go_only_to_active_subscribers_of_that_event(receiver, django_capture_on_commit_callbacks):
    # given subscribers to two events and a paused one, when review.negative is emitted, then only the active review subscriber gets it
    _subscribe(receiver, ["review.negative"])
    _subscribe(receiver, ["campaign.finished"])
    paused = _subscribe(receiver, ["review.negative"])
    services.webhook_subscription_pause(subscription_id=paused.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_event_emit(event="review.negative", payload={"reviews": []}) == 1
    assert len(receiver.received) == 1
    assert not services.webhook_event_wanted(event="segment.entered")


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(receiver, settings, django_capture_on_commit_callbacks):
    # given a receiver answering 500 twice then 200, when an event is sent, then three signed attempts reach it and the delivery ends delivered
    _subscribe(receiver)
    receiver.codes = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(event="import.finished", payload={"batch_id": 1})
    delivery = WebhookDelivery.objects.get()
    assert len(receiver.received) == 3 and all(r.problem is None for r in receiver.received)
    assert len({r.body for r in receiver.received}) == 1  # the same body each time, only the timestamp is fresh
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert WebhookSubscription.objects.get().consecutive_failures == 0
    assert [services.retry_delay(n) for n in (1, 2, 3)] == [settings.WEBHOOK_RETRY_BASE_SECONDS * k for k in (1, 2, 4)]


def test_a_delivery_is_failed_after_the_last_attempt(receiver, settings, django_capture_on_commit_callbacks):
    # given a receiver that always answers 500 and 3 attempts allowed, when an event is sent, then 3 attempts are made and the delivery is failed with the last error
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    _subscribe(receiver)
    receiver.codes = [500] * 10
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(event="import.finished", payload={})
    delivery = WebhookDelivery.objects.get()
    assert len(receiver.received) == 3
    assert delivery.status == "failed" and delivery.attempts == 3 and delivery.response_code == 500 and "500" in delivery.last_error
    assert WebhookSubscription.objects.get().is_active  # 3 failures < the pause threshold


def test_repeated_failures_pause_the_subscription_and_resume_sends_again(receiver, settings, django_capture_on_commit_callbacks):
    # given a pause threshold of 4 failed attempts, when a dead receiver fails them, then the subscription is paused, later events wait, and resuming sends them
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 4
    subscription = _subscribe(receiver)
    receiver.codes = [500] * 4
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(event="import.finished", payload={"n": 1})
    subscription.refresh_from_db()
    assert len(receiver.received) == 4
    assert not subscription.is_active and "4 failed attempts" in subscription.paused_reason
    assert WebhookDelivery.objects.get().status == "failed"
    assert services.webhook_event_emit(event="import.finished", payload={"n": 2}) == 0  # paused: nothing recorded
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_subscription_resume(subscription_id=subscription.pk)
        assert services.webhook_redeliver(delivery_ids=[WebhookDelivery.objects.get().pk]) == 1
    assert len(receiver.received) == 5 and WebhookDelivery.objects.get().status == "delivered"


def test_a_redirect_is_not_followed(receiver, settings, django_capture_on_commit_callbacks):
    # given a receiver answering 302 to elsewhere, when an event is sent, then the redirect is recorded as a failure, not followed
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    _subscribe(receiver)
    receiver.codes = [302]
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(event="import.finished", payload={})
    assert WebhookDelivery.objects.get().response_code == 302 and len(receiver.received) == 1


def test_the_deliver_task_is_safe_to_run_twice(receiver, django_capture_on_commit_callbacks):
    # given a delivered event, when the task runs again for it, then nothing is sent a second time
    _subscribe(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(event="import.finished", payload={})
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk)["status"] == "skipped"
    assert webhook_deliver(delivery_id=10**9)["status"] == "skipped"  # gone: logged and returned
    assert len(receiver.received) == 1


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "javascript:alert(1)", "http://"])
def test_non_http_urls_are_refused(url):
    # given a non-http(s) URL, when a subscription is created, then it is refused
    with pytest.raises(ValidationError):
        services.webhook_subscription_create(name="x", url=url, events=["import.finished"])


def test_loopback_and_private_hosts_are_refused_unless_allowed(settings):
    # given the default settings, when a subscription points at loopback or a private address, then it is refused; allowed by the setting, it is accepted
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    for url in ("http://127.0.0.1:8125/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data"):
        with pytest.raises(ValidationError):
            services.webhook_subscription_create(name="x", url=url, events=["import.finished"])
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    assert services.webhook_subscription_create(name="x", url="http://127.0.0.1:8125/hook", events=["import.finished"]).secret.startswith("whsec_")


def test_unknown_events_are_refused():
    # given an unknown event name, when subscribed or emitted, then it is refused
    with pytest.raises(ValidationError):
        services.webhook_subscription_create(name="x", url="https://example.com/h", events=["order.created"])
    with pytest.raises(ValueError):
        services.webhook_event_emit(event="order.created", payload={})
