"""The admin home dashboard and its jobs endpoint, on a shop built by the real pipelines."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from customers.models import Customer
from infra.groups import GROUP_NAME
from infra.jobs import job_create, job_fail, job_progress, job_start, job_succeed
from infra.models import Job
from mlcore.models import CustomerFeatures, CustomerScore, Segment, SegmentationRun
from mlcore.segments.selectors import segment_revenue, segment_sizes_over_time
from tests.campaigns.factories import DeliveryFactory
from tests.campaigns.marketing_shop import marketing_shop_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return marketing_shop_create()


@pytest.fixture
def marketer_client(client, django_user_model):
    user = django_user_model.objects.create_user(username="mia", password="pw-mia-123", email="mia@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name=GROUP_NAME))
    client.force_login(user)
    return client


def test_dashboard_shows_the_shops_figures_to_a_marketer(shop, marketer_client):
    # given a segmented and scored shop, when a Marketing user opens the admin home, then every panel shows the shop's own figures and no system tables
    page = marketer_client.get("/admin/").content.decode()
    at_risk = CustomerScore.objects.filter(model_version__is_active=True, churn_probability__gte=0.7).count()  # the default at-risk rule
    assert f"{Customer.objects.count():,}" in page and f"<strong>{at_risk:,}</strong>" in page
    for name in Segment.objects.filter(run_id=shop["runs"][1]).values_list("name", flat=True):
        assert name in page
    assert 'id="chart-segments"' in page and 'id="chart-revenue"' in page and "vendor/chart.umd.min.js" in page
    assert ">churn</a>" in page and "roc_auc" in page
    assert "System (superusers only)" not in page and "Celery Results" not in page and "Periodic Tasks" not in page


def test_superuser_finds_the_system_tables_in_their_own_section(admin_user_client):
    # given a superuser, when the admin home opens, then Celery results, periodic tasks and tokens sit in the System section
    page = admin_user_client.get("/admin/").content.decode()
    system = page[page.index("System (superusers only)"):]
    assert "Celery Results: Task results" in system and "Periodic Tasks: Periodic tasks" in system and "Auth Token: Tokens" in system


def test_recent_campaigns_show_counts_and_uplift(admin_user_client):
    # given a sent campaign with recipients and a holdout, when the dashboard opens, then the campaign is listed with its sent count
    delivery = DeliveryFactory()
    campaign = delivery.campaign
    campaign.started_at = campaign.created_at
    campaign.save(update_fields=["started_at"])
    page = admin_user_client.get("/admin/").content.decode()
    row = page[page.index(f">{campaign.name}</a>"):]
    assert '<td class="num">1</td>' in row[:400]


def test_jobs_endpoint_reports_progress_of_running_jobs(admin_user_client):
    # given a running job half done and a finished one, when jobs.json is read, then the running one comes first with done/total/percent
    finished = job_create(kind="mlcore.score_customers")
    Job.objects.filter(pk=finished.pk).update(status=Job.Status.SUCCEEDED)
    running = job_create(kind="customers.import", total=10)
    job_start(job_id=running.pk, total=10, message="reading")
    job_progress(job_id=running.pk, done=5)
    jobs = admin_user_client.get("/admin/dashboard/jobs.json").json()["jobs"]
    assert jobs[0] == {**jobs[0], "id": running.pk, "status": "running", "done": 5, "total": 10, "percent": 50.0, "message": "reading"}
    assert [j["id"] for j in jobs] == [running.pk, finished.pk]


def test_jobs_panel_keeps_the_last_ended_job_of_every_kind(admin_user_client):
    # given a morning import then six scoring jobs, when jobs.json is read, then the import still shows, each kind once, its latest job
    imported = job_create(kind="import")
    job_succeed(job_id=imported.pk)
    scorings = [job_create(kind="mlcore.score_customers") for _ in range(6)]
    for job in scorings[:-1]:
        job_succeed(job_id=job.pk)
    job_fail(job_id=scorings[-1].pk, error="shard 3: disk full")
    jobs = admin_user_client.get("/admin/dashboard/jobs.json").json()["jobs"]
    assert [(j["kind"], j["id"]) for j in jobs] == [("mlcore.score_customers", scorings[-1].pk), ("import", imported.pk)]
    assert jobs[0]["status"] == "failed"


def test_jobs_endpoint_needs_a_staff_login(client):
    # given no login, when jobs.json is asked for, then the admin login answers instead
    assert client.get("/admin/dashboard/jobs.json").status_code == 302


def test_segment_sizes_over_time_and_revenue_follow_the_runs(shop):
    # given two runs, when the chart selectors read them, then sizes line up per run and revenue per segment sums the run's snapshot spend
    over = segment_sizes_over_time()
    assert len(over["labels"]) == 2
    assert sum(s["sizes"][1] or 0 for s in over["series"]) == Customer.objects.count()
    revenue = segment_revenue(run_id=shop["runs"][1])
    snapshot_id = SegmentationRun.objects.get(pk=shop["runs"][1]).feature_snapshot_id
    total = sum(v or 0 for v in CustomerFeatures.objects.filter(snapshot_id=snapshot_id).values_list("monetary", flat=True))
    assert sum(r["revenue"] for r in revenue) == pytest.approx(total) and revenue == sorted(revenue, key=lambda r: -r["revenue"])
