import datetime as dt

import pytest

from customers.models import Customer
from infra.models import Job
from mlcore.models import SegmentationRun
from mlcore.segments.services import segmentation_run_build
from tests.mlcore.segment_shop import SNAPSHOT, make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs():
    ids = make_shop()
    first = segmentation_run_build(snapshot_at=SNAPSHOT)
    second = segmentation_run_build(snapshot_at=SNAPSHOT + dt.timedelta(days=30))
    return ids, first, second


def test_segments_list_is_the_latest_run(api_client, runs):
    # given two runs, when segments are listed, then the latest run's segments come with their profiles
    _, first, second = runs
    body = api_client.get("/api/v1/segments/").json()
    assert {s["run"] for s in body["results"]} == {second}
    assert {s["key"] for s in body["results"]} == {"champions", "new", "at_risk", "hibernating"}
    older = api_client.get(f"/api/v1/segments/?run={first}").json()
    assert {s["run"] for s in older["results"]} == {first}


def test_segment_members_are_paginated(api_client, runs):
    # given a segment of 8 customers, when members are read 5 a page, then two pages hold all 8
    _, _, second = runs
    segment = SegmentationRun.objects.get(pk=second).segments.get(key="champions")
    page = api_client.get(f"/api/v1/segments/{segment.pk}/members/?page_size=5").json()
    assert len(page["results"]) == 5 and page["next"]
    rest = api_client.get(page["next"]).json()
    members = {m["customer_external_id"] for m in page["results"] + rest["results"]}
    assert members == {f"best-{i}" for i in range(8)}


def test_customer_segment_history(api_client, anon_client, runs):
    # given two runs, when a customer's history is read, then both runs are listed newest first; unknown ids are 404
    _, first, second = runs
    body = api_client.get("/api/v1/customers/best-0/segments").json()
    assert [(row["run"], row["key"]) for row in body["results"]] == [(second, "champions"), (first, "champions")]
    assert api_client.get("/api/v1/customers/nobody/segments").status_code == 404
    assert anon_client.get("/api/v1/customers/best-0/segments").status_code == 401


def test_admin_lists_charts_and_customer_panel(admin_user_client, runs):
    # given two runs, when the admin pages open, then lists, the charts page and the customer panel render the segments
    _, _, second = runs
    assert "Run segmentation now" in admin_user_client.get("/admin/mlcore/segmentationrun/").content.decode()
    listing = admin_user_client.get("/admin/mlcore/segment/").content.decode()
    assert "Champions" in listing and "Typical profile" in listing
    charts = admin_user_client.get(f"/admin/mlcore/segment/charts/?run={second}").content.decode()
    assert "vendor/chart.umd.min.js" in charts and 'id="transitions"' in charts and "segment-data" in charts
    customer = Customer.objects.get(external_id="best-0")
    page = admin_user_client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert "Segments" in page and "Champions" in page


def test_charts_page_without_runs(admin_user_client):
    # given no run, when the charts page opens, then it says so
    assert "No segmentation run yet" in admin_user_client.get("/admin/mlcore/segment/charts/").content.decode()


def test_run_now_button_queues_the_task(admin_user_client, django_capture_on_commit_callbacks):
    # given the shop, when the button is pressed, then a job is made and (eagerly here) the run is built
    make_shop()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_user_client.post("/admin/mlcore/segmentationrun/run-now/")
    job = Job.objects.get(kind="segment_customers")
    assert response.status_code == 302 and response["Location"].endswith(f"/job/{job.pk}/change/")
    assert admin_user_client.get("/admin/mlcore/segmentationrun/run-now/").status_code == 405
