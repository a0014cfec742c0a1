import pytest

from infra import jobs
from infra.models import Job

pytestmark = pytest.mark.django_db


def test_job_progress_and_finish():
    # given a job, when started, advanced and finished, then done/total and status follow
    job = jobs.job_create(kind="segment")
    jobs.job_start(job_id=job.pk, total=10)
    jobs.job_progress(job_id=job.pk, advance=4)
    jobs.job_progress(job_id=job.pk, advance=3, message="storing")
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.percent, job.message) == ("running", 7, 10, 70.0, "storing")
    jobs.job_succeed(job_id=job.pk, result={"segments": 6})
    job.refresh_from_db()
    assert job.status == "succeeded" and job.done == 10 and job.finished_at is not None


def test_job_failure_keeps_the_reason():
    # given a running job, when it fails, then the error text is kept
    job = jobs.job_create(kind="train")
    jobs.job_fail(job_id=job.pk, error="ValueError: no data")
    assert Job.objects.get(pk=job.pk).error == "ValueError: no data"


def test_admin_pages_render(admin_user_client):
    # given a job and a model version, when the admin lists open, then they render
    from mlcore.registry import services as registry

    jobs.job_create(kind="train", total=5)
    registry.model_version_create(kind="churn")
    assert admin_user_client.get("/admin/infra/job/").status_code == 200
    assert admin_user_client.get("/admin/mlcore/modelversion/").status_code == 200
