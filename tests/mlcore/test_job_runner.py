"""The one job runner: @job_task owns a Job's life (adopted or created, running, succeeded or failed)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from infra import jobs
from infra.models import Job
from infra.runner import job_task

pytestmark = pytest.mark.django_db

CALLS: list[dict] = []


@job_task(name="tests.job_runner_ok", kind="tests.ok")
def ok_task(*, job_id: int, size: int = 3) -> dict:
    CALLS.append({"job_id": job_id, "size": size})
    jobs.job_progress(job_id=job_id, done=size, total=size)
    return {"size": size, "message": f"{size} things"}


@job_task(name="tests.job_runner_boom", kind="tests.boom")
def boom_task(*, job_id: int) -> dict:
    raise ValueError("no data to train on")


def test_beat_call_without_a_job_creates_one_and_marks_it_succeeded():
    # given no job id (as beat calls it), when the task runs, then a Job of its kind is created, run and succeeded with the summary
    result = ok_task.apply(kwargs={"size": 5}).get()
    job = Job.objects.get(pk=result["job_id"])
    assert (job.kind, job.status, job.done, job.total, job.message, job.result) == ("tests.ok", "succeeded", 5, 5, "5 things", {"size": 5})
    assert job.task_id and job.started_at and job.finished_at


def test_given_job_is_adopted_not_doubled():
    # given a queued job from the admin, when the task runs with its id, then that row is the one that succeeds and no second is made
    job = jobs.job_create(kind="tests.ok")
    ok_task.apply(kwargs={"job_id": job.pk}).get()
    assert Job.objects.filter(kind="tests.ok").count() == 1
    assert Job.objects.get(pk=job.pk).status == "succeeded"


def test_failing_body_marks_the_job_failed_once_with_the_reason():
    # given a body that raises, when run, then the job is failed with the reason (on_failure does not mark it a second time)
    job = jobs.job_create(kind="tests.boom")
    with pytest.raises(ValueError):
        boom_task.apply(kwargs={"job_id": job.pk}).get()
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "ValueError: no data to train on"
    assert jobs.job_fail(job_id=job.pk, error="again") is False
    assert Job.objects.get(pk=job.pk).error == "ValueError: no data to train on"


def test_task_that_fails_before_its_body_runs_still_fails_its_job():
    # given a job and a call with an argument the body does not take, when the task fails before the body, then on_failure marks the job failed
    job = jobs.job_create(kind="tests.ok")
    with pytest.raises(TypeError):
        ok_task.apply(kwargs={"job_id": job.pk, "nonsense": 1}).get()
    assert Job.objects.get(pk=job.pk).status == "failed"


def test_reaper_fails_running_jobs_whose_worker_stopped_beating(settings):
    # given a task's running job silent past JOB_STALE_SECONDS, a fresh one and a campaign's sending job (no task id), when reaped, then only the silent task job fails
    settings.JOB_STALE_SECONDS = 300
    now = timezone.now()
    silent, fresh, sending = (jobs.job_create(kind=k, task_id=t) for k, t in [("a", "t1"), ("b", "t2"), ("campaigns.send", "")])
    for job, beat in [(silent, now - timedelta(seconds=900)), (fresh, now - timedelta(seconds=10)), (sending, now - timedelta(hours=2))]:
        Job.objects.filter(pk=job.pk).update(status="running", started_at=beat, heartbeat_at=beat)
    assert jobs.jobs_reap_stale(now=now) == 1
    assert {j.kind: j.status for j in Job.objects.all()} == {"a": "failed", "b": "running", "campaigns.send": "running"}
    assert "worker lost" in Job.objects.get(pk=silent.pk).error


def test_reaper_spares_a_job_whose_progress_came_from_inside_a_transaction(settings):
    # given a task's job whose row beat is old but which just published progress (its row's update is not committed yet) when reaped then it stays running
    settings.JOB_STALE_SECONDS = 300
    job = jobs.job_create(kind="import", task_id="t1")
    jobs.job_progress(job_id=job.pk, advance=10)
    old = timezone.now() - timedelta(seconds=900)
    Job.objects.filter(pk=job.pk).update(status="running", started_at=old, heartbeat_at=old)
    assert jobs.jobs_reap_stale() == 0
    assert jobs.jobs_reap_stale(now=timezone.now() + timedelta(seconds=600)) == 1


def test_enqueue_refuses_a_second_open_job_of_the_kind(django_capture_on_commit_callbacks):
    # given one queued segmentation job, when "Run now" is pressed again, then the open job is returned, nothing new is queued
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first, created = jobs.job_enqueue(kind="tests.ok", task=ok_task)
        second, created_again = jobs.job_enqueue(kind="tests.ok", task=ok_task)
    assert created and not created_again and second.pk == first.pk and len(callbacks) == 1
    assert Job.objects.filter(kind="tests.ok").count() == 1


@pytest.mark.django_db(transaction=True)
def test_progress_inside_a_transaction_is_visible_to_other_connections():
    # given work inside an atomic block, when it reports progress, then another connection reading the job sees it (through the cache) before the commit
    job = jobs.job_create(kind="tests.ok")
    jobs.job_start(job_id=job.pk, total=10)
    seen: dict = {}

    def read_elsewhere():
        other = Job.objects.get(pk=job.pk)  # this thread's own connection
        seen.update(row=other.done, live=jobs.job_live(job=other)["done"])
        connection.close()

    with transaction.atomic():
        jobs.job_progress(job_id=job.pk, done=7)
        thread = threading.Thread(target=read_elsewhere)
        thread.start()
        thread.join(timeout=60)
    assert seen == {"row": 0, "live": 7}


def test_admin_start_queues_a_job_and_a_second_press_joins_it(admin_user_client, django_capture_on_commit_callbacks):
    # given a staff user on the Jobs page, when "Start: Scoring" is pressed twice, then one job is queued (not run in the request) and the second press lands on it
    page = admin_user_client.get("/admin/infra/job/")
    assert "Start: Scoring" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = admin_user_client.post("/admin/infra/job/start/score_customers/")
        second = admin_user_client.post("/admin/infra/job/start/score_customers/")
    job = Job.objects.get(kind="score_customers")
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"] == f"/admin/infra/job/{job.pk}/change/"
    assert job.status == "queued" and len(callbacks) == 1
    assert admin_user_client.post("/admin/infra/job/start/drop_tables/").status_code == 403
    assert "refreshes every 3 seconds" in admin_user_client.get(f"/admin/infra/job/{job.pk}/change/").content.decode()
