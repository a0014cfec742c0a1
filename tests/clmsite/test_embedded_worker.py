"""Due work on the embedded default: a real worker with beat on kombu's filesystem transport.

The worker is a subprocess on the test's own database (a file under var/ on SQLite, the test
database on PostgreSQL), so the test commits its rows (transaction=True) for it to read.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign, Delivery
from campaigns.services.lifecycle import campaign_schedule
from tests.campaigns.factories import VariantFactory
from tests.conftest import ROOT
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _database_env() -> dict[str, str]:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"]), "DATABASE_URL": ""}
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {"DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}


@pytest.fixture
def embedded_worker(tmp_path):
    """`make worker`'s command with beat (-B) on the filesystem broker, mail to files under tmp_path."""
    env = dict(
        os.environ, **_database_env(), REDIS_URL="", CELERY_BROKER_URL="filesystem://", BROKER_DIR=str(tmp_path / "broker"),
        CAMPAIGN_DISPATCH_SECONDS="2", EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        CAMPAIGN_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=str(tmp_path / "mail"),
        OMP_NUM_THREADS="1", SITE_URL="http://127.0.0.1:8000",
    )
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clmsite", "worker", "-B", "-Q", "default,ml,gpu,email", "--pool=solo",
         "--without-gossip", "--without-mingle", "-s", str(tmp_path / "beat-schedule"), "-n", f"embedded-{os.getpid()}@%h", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    yield proc, tmp_path
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_scheduled_campaign_goes_out_through_the_embedded_worker(embedded_worker):
    # given a campaign scheduled a few seconds ahead and a worker with beat on the filesystem broker, when its time comes, then beat dispatches it, the worker sends every message and the campaign is sent
    proc, folder = embedded_worker
    for name in ("Alice Smith", "Bob Jones", "Cara Diaz"):
        CustomerFactory(name=name, email=f"{name.split()[0].lower()}@example.com")
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    campaign_schedule(campaign_id=variant.campaign_id, send_at=timezone.now() + timedelta(seconds=3))
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        assert proc.poll() is None, (folder / "worker.log").read_text()[-3000:]
        if Campaign.objects.get(pk=variant.campaign_id).status not in (Campaign.Status.SCHEDULED, Campaign.Status.SENDING):
            break
        time.sleep(1)
    campaign = Campaign.objects.get(pk=variant.campaign_id)
    assert campaign.status == Campaign.Status.SENT, (folder / "worker.log").read_text()[-3000:]
    assert Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT).count() == 3
    received = "".join(p.read_text() for p in (folder / "mail").iterdir())
    assert sorted(line[4:] for line in received.splitlines() if line.startswith("To: ")) == ["alice@example.com", "bob@example.com", "cara@example.com"]
