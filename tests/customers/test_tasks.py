"""The reaper of killed imports: customers.reap_stale_imports, which goes by each batch's Job."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from customers.imports.services import import_batches_reap
from customers.models import ImportBatch
from customers.tasks import reap_stale_imports
from infra import jobs
from infra.models import Job

pytestmark = pytest.mark.django_db


def _running(started_minutes_ago: int, *, job: Job | None = None) -> ImportBatch:
    return ImportBatch.objects.create(kind="orders", source_name="big.csv", status=ImportBatch.Status.RUNNING, job=job,
                                      started_at=timezone.now() - timedelta(minutes=started_minutes_ago))


def _job(*, beat_minutes_ago: int, task_id: str = "celery-1") -> Job:
    job = jobs.job_create(kind="import", task_id=task_id)
    beat = timezone.now() - timedelta(minutes=beat_minutes_ago)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=beat, heartbeat_at=beat)
    return Job.objects.get(pk=job.pk)


def test_batch_whose_job_the_job_reaper_failed_is_marked_failed(settings):
    # given a worker's import silent past JOB_STALE_SECONDS and a live one when both reapers run then only the silent batch and its job fail
    settings.JOB_STALE_SECONDS = 300
    dead, live = _running(30, job=_job(beat_minutes_ago=30)), _running(30, job=_job(beat_minutes_ago=0))
    assert jobs.jobs_reap_stale() == 1
    assert reap_stale_imports() == {"reaped": [dead.pk]}
    dead.refresh_from_db(), live.refresh_from_db()
    assert dead.status == "failed" and dead.finished_at is not None
    assert dead.error.startswith("no progress since ") and "the import process stopped (worker lost" in dead.error
    assert dead.error.endswith("nothing was written, import the file again")
    assert live.status == "running" and live.job.status == "running"


def test_command_import_without_progress_fails_with_its_job(settings):
    # given a command's import (its job has no task to beat for it) silent for 2 h and one that just published progress from inside its transaction when reaped then only the silent one fails
    settings.IMPORT_STALE_AFTER_S = 3600
    dead = _running(120, job=_job(beat_minutes_ago=120, task_id=""))
    busy = _running(120, job=_job(beat_minutes_ago=120, task_id=""))
    jobs.job_progress(job_id=busy.job_id, advance=5000)  # the cache copy: its row's beat stays hidden until the commit
    Job.objects.filter(pk=busy.job_id).update(heartbeat_at=timezone.now() - timedelta(hours=2))
    assert import_batches_reap() == [dead.pk]
    dead.refresh_from_db(), busy.refresh_from_db()
    assert dead.status == "failed" and dead.job.status == "failed" and "no sign of life for over 3600 s" in dead.job.error
    assert busy.status == "running" and busy.job.status == "running"


def test_batch_without_a_job_goes_by_its_start(settings):
    # given two batches made before jobs ran imports, one started 2 h ago and one just now, when reaped then only the old one fails
    settings.IMPORT_STALE_AFTER_S = 3600
    old, new = _running(120), _running(1)
    assert import_batches_reap() == [old.pk]
    old.refresh_from_db(), new.refresh_from_db()
    assert old.status == "failed" and "no progress since" in old.error and "(killed or lost)" in old.error
    assert new.status == "running"


def test_pending_upload_whose_task_failed_before_running_is_marked_failed():
    # given a queued upload whose task broke before its body ran (on_failure failed the job) when reaped then its pending batch fails too
    job = jobs.job_create(kind="import")
    batch = ImportBatch.objects.create(kind="orders", source_name="up.csv", status=ImportBatch.Status.PENDING, job=job)
    jobs.job_fail(job_id=job.pk, error="TypeError: bad arguments")
    assert reap_stale_imports() == {"reaped": [batch.pk]}
    batch.refresh_from_db()
    assert batch.status == "failed" and "TypeError: bad arguments" in batch.error


def test_killed_import_through_the_service_is_reaped(monkeypatch, settings):
    # given an import killed after its first written batch (the process died) when the reaper runs later then its batch and its job are failed
    from customers.imports import loading
    from customers.imports.services import import_bytes
    from tests.customers.imports.samples import retail_text

    def killed(rows):
        raise SystemExit("worker killed")

    monkeypatch.setattr(loading, "after_batch", killed)
    with pytest.raises(SystemExit):  # not an Exception: the service's failure handler never runs, as with SIGKILL
        import_bytes(data=retail_text().encode(), source_name="s.csv", kind="orders", preset="online_retail", backend="batched")
    batch = ImportBatch.objects.get()
    assert batch.status == "running" and batch.job.status == "running"
    settings.IMPORT_STALE_AFTER_S = 0
    assert reap_stale_imports() == {"reaped": [batch.pk]}
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.job.status == "failed"


def test_reaper_twice_changes_nothing_more():
    # given a reaped batch when the task runs again then nothing else is marked
    _running(24 * 60)
    assert len(reap_stale_imports()["reaped"]) == 1
    assert reap_stale_imports() == {"reaped": []}


def test_reaper_task_name_and_beat_entry_are_stable():
    # given the deployed name when looked up then the task and its beat schedule entry exist
    assert reap_stale_imports.name == "customers.reap_stale_imports"
    assert settings.CELERY_BEAT_SCHEDULE["reap-stale-imports"]["task"] == "customers.reap_stale_imports"
