"""The reaper of killed imports: customers.reap_stale_imports."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from customers.imports import services
from customers.imports.services import import_batches_reap
from customers.models import ImportBatch
from customers.tasks import reap_stale_imports

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # progress times of earlier tests' batches (same ids) must not count


def _running(started_minutes_ago: int) -> ImportBatch:
    return ImportBatch.objects.create(kind="orders", source_name="big.csv", status=ImportBatch.Status.RUNNING,
                                      started_at=timezone.now() - timedelta(minutes=started_minutes_ago))


def test_killed_import_is_marked_failed_and_a_live_one_left_alone(settings):
    # given a batch running for 2 h without progress and one that reported progress just now when reaped then only the first fails
    settings.IMPORT_STALE_AFTER_S = 3600
    dead, live = _running(120), _running(120)
    cache.set(services._beat_key(live.pk), timezone.now().timestamp())
    assert import_batches_reap() == [dead.pk]
    dead.refresh_from_db(), live.refresh_from_db()
    assert dead.status == "failed" and "no progress since" in dead.error and dead.finished_at is not None
    assert live.status == "running"


def test_killed_import_through_the_service_is_reaped(monkeypatch, settings):
    # given an import killed after its first written batch (the process died) when the reaper runs later then its batch is failed
    from customers.imports import loading
    from customers.imports.services import import_bytes
    from tests.customers.imports.samples import retail_text

    def killed(rows):
        raise SystemExit("worker killed")

    monkeypatch.setattr(loading, "after_batch", killed)
    with pytest.raises(SystemExit):  # not an Exception: the service's failure handler never runs, as with SIGKILL
        import_bytes(data=retail_text().encode(), source_name="s.csv", kind="orders", preset="online_retail", backend="batched")
    batch = ImportBatch.objects.get()
    assert batch.status == "running"
    settings.IMPORT_STALE_AFTER_S = 0
    assert reap_stale_imports() == {"reaped": [batch.pk]}
    batch.refresh_from_db()
    assert batch.status == "failed"


def test_reaper_twice_changes_nothing_more():
    # given a reaped batch when the task runs again then nothing else is marked
    _running(24 * 60)
    assert len(reap_stale_imports()["reaped"]) == 1
    assert reap_stale_imports() == {"reaped": []}


def test_reaper_task_name_and_beat_entry_are_stable():
    # given the deployed name when looked up then the task and its beat schedule entry exist
    assert reap_stale_imports.name == "customers.reap_stale_imports"
    assert settings.CELERY_BEAT_SCHEDULE["reap-stale-imports"]["task"] == "customers.reap_stale_imports"
