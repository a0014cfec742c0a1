"""A marketer's journeys in a real browser: log in, read the dashboard, build a campaign with
the form on a segment with the recommendations template, see the live count, preview it,
send the test to oneself and save. Each step leaves a screenshot under var/screenshots/."""
from __future__ import annotations

import re

from django.core import mail

from campaigns.audience import audience_queryset
from campaigns.models import Campaign
from campaigns.recommendations import recommendations_for
from campaigns.starters import STARTERS
from customers.models import Customer
from infra.jobs import job_create, job_progress, job_start, job_succeed
from mlcore.models import CustomerScore, Segment
from tests.browser.conftest import BROWSER, MARKETER_PASSWORD, log_in

pytestmark = BROWSER


def test_marketer_logs_in_and_the_dashboard_shows_the_shops_figures(page, live_server, marketer, marketing_shop, shot):
    # given a segmented and scored shop, when a Marketing user logs in, then the home page is the dashboard with the shop's own figures and charts, without system tables
    page.goto(f"{live_server.url}/admin/")
    shot(page, "login")
    log_in(page, live_server.url, marketer.username, MARKETER_PASSWORD)
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-segments') && Chart.getChart('chart-revenue')")
    shot(page, "dashboard")
    at_risk = CustomerScore.objects.filter(model_version__is_active=True, churn_probability__gte=0.7).count()  # the default at-risk rule
    assert f"{Customer.objects.count():,}" in page.inner_text("#panel-shop")
    assert f"{at_risk:,}" in page.inner_text("#panel-at-risk")
    segments = list(Segment.objects.filter(run_id=marketing_shop["runs"][1]).values_list("name", flat=True))
    revenue_panel = page.inner_text("#panel-revenue")
    assert all(name in revenue_panel for name in segments)
    assert page.evaluate("() => Chart.getChart('chart-segments').data.labels.length") == 2
    assert "churn" in page.inner_text("#panel-models")
    assert "Celery" not in page.inner_text("body") and "Periodic" not in page.inner_text("body")


def test_marketer_builds_a_recommendations_campaign_on_a_segment(staff_page, live_server, marketing_shop, marketer, settings, shot):
    # given the shop, when a marketer starts from "Picked for you", picks a segment, watches the live count, saves, previews and test-sends, then the count, products and test mail are right
    settings.CAMPAIGN_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    page = staff_page
    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    page.click("text=Picked for you (recommendations)")
    page.wait_for_url(re.compile(r".*starter=picked$"))
    assert page.input_value("#id_variants-0-subject") == STARTERS["picked"].subject
    shot(page, "starter")

    segment = Segment.objects.filter(run_id=marketing_shop["runs"][1]).order_by("-size").first()
    expected = audience_queryset([{"key": "segment", "params": {"keys": [segment.key]}}]).count()
    page.fill("#id_slug", "picked-browser")
    page.check(f"input[name=segments][value='{segment.key}']")
    page.wait_for_function(f"() => document.getElementById('audience-count').dataset.count === '{expected}'")
    assert f"Live count: {expected:,} customers match" in page.inner_text("#audience-count")
    shot(page, "live-count")

    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    assert f"Audience now: {expected:,} customers" in page.inner_text(".messagelist")
    campaign = Campaign.objects.get(slug="picked-browser")
    assert campaign.audience_rules == [{"key": "segment", "params": {"keys": [segment.key]}}]
    shot(page, "saved")

    page.click("text=Preview / test send")
    page.click("#preview-form input[type=submit]")
    page.wait_for_selector("#message-html")
    products = [p.title for p in recommendations_for(None, campaign.recommendations_count)]
    frame = page.frame_locator("#message-html")
    assert products and all(frame.get_by_text(title, exact=True).count() >= 1 for title in products)
    assert page.input_value("#id_send_to") == marketer.email
    shot(page, "preview")

    page.click("#test-send-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert f"sent to {marketer.email}" in page.inner_text(".messagelist")
    shot(page, "test-sent")
    assert [m.to for m in mail.outbox] == [[marketer.email]]
    sent_html = mail.outbox[0].alternatives[0][0]
    assert mail.outbox[0].subject.startswith("[TEST] ") and all(title in sent_html for title in products)


def test_dashboard_jobs_panel_follows_a_running_job(staff_page, live_server, shot):
    # given a running import job, when it advances and then finishes while the dashboard is open, then its bar follows without a reload and it ends succeeded
    page = staff_page
    job = job_create(kind="customers.import", total=200)
    job_start(job_id=job.pk, total=200, message="reading rows")
    page.goto(f"{live_server.url}/admin/")
    row = f"#jobs-body tr:has-text('#{job.pk}')"
    assert page.get_attribute(f"{row} [role=progressbar]", "aria-valuenow") == "0"
    job_progress(job_id=job.pk, done=150, message="loading orders")
    page.wait_for_selector(f"{row} [role=progressbar][aria-valuenow='75']")
    assert "loading orders" in page.inner_text(row)
    shot(page, "progress")
    job_succeed(job_id=job.pk, result={"rows": 200})
    page.wait_for_selector(f"#jobs-body tr[data-status=succeeded]:has-text('#{job.pk}')")
    assert page.get_attribute(f"{row} [role=progressbar]", "aria-valuenow") == "100"
    shot(page, "finished")
