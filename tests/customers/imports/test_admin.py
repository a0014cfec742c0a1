import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import ImportBatch, OrderLine
from tests.customers.imports.samples import retail_text

pytestmark = pytest.mark.django_db


def _upload(client, text):
    upload = SimpleUploadedFile("shop.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("admin:customers_importbatch_upload"), {"kind": "orders", "preset": "online_retail", "file": upload})


def test_staff_upload_imports_and_shows_report(admin_user_client, django_capture_on_commit_callbacks):
    # given a staff user uploading the sample file when its queued import is done then the batch page shows rule counts and progress
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(admin_user_client, retail_text())
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/{batch.pk}/change/")
    page = admin_user_client.get(response.url).content.decode()
    assert "exact_duplicates" in page and "100%" in page
    assert OrderLine.objects.count() == 11


def test_upload_of_bad_file_reports_error_and_fails_batch(admin_user_client, django_capture_on_commit_callbacks):
    # given a file with a bad date when uploaded and its queued import has run then the batch is failed and its page shows the line
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(admin_user_client, retail_text().replace("2010-12-01 08:26:00", "soon", 1))
    batch = ImportBatch.objects.get()
    assert batch.status == "failed"
    assert batch.message.startswith("Failed: nothing was written")  # not the pending batch's "queued: waiting for a worker"
    page = admin_user_client.get(response.url).content.decode()
    assert "line 2" in page and "waiting for a worker" not in page
    assert not OrderLine.objects.exists()


def test_refused_upload_fails_its_job_once_with_the_batch_error(admin_user_client, django_capture_on_commit_callbacks, monkeypatch):
    # given a file with a bad date when its queued upload task has run then batch and job are failed with the same "line 2" text, the job marked once
    from infra import jobs, runner

    failed, fail = [], jobs.job_fail

    def counting_fail(*, job_id, error):
        failed.append(fail(job_id=job_id, error=error))
        return failed[-1]

    monkeypatch.setattr(jobs, "job_fail", counting_fail)
    monkeypatch.setattr(runner, "job_fail", counting_fail)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(admin_user_client, retail_text().replace("2010-12-01 08:26:00", "soon", 1))
    batch = ImportBatch.objects.select_related("job").get()
    assert batch.status == batch.job.status == "failed" and batch.job.kind == "import"
    assert "shop.csv, line 2: placed_at 'soon'" in batch.error and batch.job.error == batch.error
    assert failed.count(True) == 1 and not OrderLine.objects.exists()


def test_upload_runs_under_the_job_made_when_queued(admin_user_client, django_capture_on_commit_callbacks):
    # given an uploaded file when queued then its pending batch already has a queued import job, which the task runs to success
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _upload(admin_user_client, retail_text())
    batch = ImportBatch.objects.select_related("job").get()
    assert batch.job.status == "queued" and batch.job.kind == "import"
    callbacks[0]()
    batch.refresh_from_db()
    batch.job.refresh_from_db()
    assert batch.status == batch.job.status == "succeeded" and batch.job.done == batch.rows_total > 0


def test_upload_is_queued_not_run_in_the_request(admin_user_client, django_capture_on_commit_callbacks):
    # given a staff user uploading a file, when the request returns, then a pending batch waits for the worker, its page refreshes itself, and the file is kept until the task runs
    from django.core.files.storage import default_storage

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _upload(admin_user_client, retail_text())
    batch = ImportBatch.objects.get()
    assert batch.status == "pending" and not OrderLine.objects.exists() and len(callbacks) == 1
    page = admin_user_client.get(response.url).content.decode()
    assert "refreshes every 3 seconds" in page and 'http-equiv="refresh"' in page
    callbacks[0]()
    batch.refresh_from_db()
    assert batch.status == "succeeded" and OrderLine.objects.count() == 11
    assert not default_storage.listdir("imports/uploads")[1]  # the kept file is gone
    assert 'http-equiv="refresh"' not in admin_user_client.get(response.url).content.decode()


def test_batch_list_links_to_upload(admin_user_client):
    # given the import batch list when opened then it offers the upload page
    page = admin_user_client.get(reverse("admin:customers_importbatch_changelist")).content.decode()
    assert reverse("admin:customers_importbatch_upload") in page


def test_non_staff_cannot_upload(client, django_user_model):
    # given a logged-in non-staff user when opening the upload page then they are sent to the login
    client.force_login(django_user_model.objects.create_user(username="u", password="pw-user-123"))
    response = client.get(reverse("admin:customers_importbatch_upload"))
    assert response.status_code == 302 and "login" in response.url
