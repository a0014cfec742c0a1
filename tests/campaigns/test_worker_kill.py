"""A real Celery worker is SIGKILLed in the middle of a campaign; another one finishes it and
every selected customer has received exactly one message (PostgreSQL + Redis only)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from campaigns.models import Campaign, Delivery
from campaigns.services.lifecycle import campaign_start
from campaigns.tasks import dispatch_due
from tests.campaigns.conftest import RecordingHandler, free_port
from tests.campaigns.factories import VariantFactory
from tests.conftest import ROOT
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
QUEUE = f"campaigns-killtest-{os.getpid()}"


def _database_url() -> str:
    if connection.vendor != "postgresql":
        pytest.skip("the worker subprocess must see the test database: an in-memory SQLite test database is private to this process (set DATABASE_URL to PostgreSQL)")
    d = connection.settings_dict
    auth = d["USER"] + (f":{d['PASSWORD']}" if d["PASSWORD"] else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def _start_worker(env: dict, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clmsite", "worker", "-Q", QUEUE, "--pool=solo", "--concurrency=1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}-{os.getpid()}@%h", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _sent() -> int:
    return Delivery.objects.filter(status=Delivery.Status.SENT).count()


def _kill_mid_campaign(worker: subprocess.Popen, at_least: int) -> int:
    """SIGKILL right after a send was committed (the worker is then pacing); returns sent count."""
    deadline, last = time.monotonic() + 90, _sent()
    while time.monotonic() < deadline:
        now = _sent()
        if now >= at_least and now != last:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            return now
        last = now
        time.sleep(0.005)
    pytest.fail("the first worker sent nothing within 90 s")


@pytest.fixture
def eager_celery():
    """Overrides the package's eager fixture: this test goes through the real broker."""
    yield


@pytest.fixture
def smtp(settings):
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def test_killed_worker_mid_campaign_then_new_worker_sends_each_customer_exactly_once(redis_url, smtp, settings):
    # given 60 customers and a throttled campaign on a real worker, when the worker is SIGKILLed mid-send and another starts (beat's dispatch_due restarting the stalled campaign), then every selected customer received exactly one message and the holdout none
    handler, port = smtp
    customers = [CustomerFactory(email=f"k{i}@example.com") for i in range(60)]
    variant = VariantFactory(campaign__holdout_share="0.1", campaign__throttle_per_minute=600, share=100)
    settings.CAMPAIGN_QUEUE, settings.CAMPAIGN_SEND_CONCURRENCY = QUEUE, 1
    env = dict(
        os.environ, REDIS_URL=redis_url, DATABASE_URL=_database_url(), OMP_NUM_THREADS="1", CAMPAIGN_QUEUE=QUEUE,
        CAMPAIGN_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port),
        CAMPAIGN_LEASE_SECONDS="3", CAMPAIGN_STALL_SECONDS="2", CAMPAIGN_BATCH_SIZE="10", CAMPAIGN_SEND_CONCURRENCY="1",
        CELERY_VISIBILITY_TIMEOUT="10", SITE_URL="https://shop.example.com",
    )
    first = _start_worker(env, "kill-a")
    second = None
    try:
        assert campaign_start(campaign_id=variant.campaign_id)
        sent_at_kill = _kill_mid_campaign(first, at_least=15)
        second = _start_worker(env, "kill-b")
        deadline = time.monotonic() + 120
        while Campaign.objects.get().status != Campaign.Status.SENT and time.monotonic() < deadline:
            dispatch_due.apply_async()  # what beat does every minute (routed to QUEUE by CAMPAIGN_QUEUE)
            time.sleep(2)
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)
        dispatch_due.app.connection_for_write().default_channel.queue_purge(QUEUE)
    received = [message_from_bytes(raw, policy=policy.default) for _, raw in handler.messages]
    recipients = sorted(m["To"] for m in received)
    selected = Delivery.objects.filter(is_holdout=False)
    assert Campaign.objects.get().status == Campaign.Status.SENT
    assert 15 <= sent_at_kill < selected.count()
    assert recipients == sorted(selected.values_list("customer__email", flat=True))
    assert len(set(recipients)) == len(recipients)
    assert set(recipients).isdisjoint(Delivery.objects.filter(is_holdout=True).values_list("customer__email", flat=True))
    assert selected.count() + Delivery.objects.filter(is_holdout=True).count() == len(customers)
