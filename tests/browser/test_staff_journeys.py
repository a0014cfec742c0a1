"""Staff journeys in a real browser (Debian chromium driven by Playwright), with the embedded worker.

What a marketer does on the embedded default: log in, schedule a campaign a few seconds ahead
and watch the worker send it (the report shows sent counts per variant, no failures), run
segmentation from the admin and watch its job finish. Each step saves a screenshot under
var/screenshots/.
"""
from __future__ import annotations

import os
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from customers.models import Customer
from tests.browser.conftest import BROWSER
from tests.campaigns.factories import VariantFactory
from tests.embedded import embedded_worker, mail_recipients
from tests.mlcore.segment_shop import make_shop

pytestmark = BROWSER


@pytest.fixture
def queued(tmp_path):
    """The live server queues tasks on the embedded broker (as `make demo`'s web server does) instead of running them in the request."""
    from clmsite.celery import app

    conf = app.conf
    saved = {k: conf[k] for k in ("task_always_eager", "broker_url", "broker_transport_options")}
    folder = str(tmp_path / "broker" / "queue")
    os.makedirs(folder, exist_ok=True)
    conf.update(task_always_eager=False, broker_url="filesystem://",
                broker_transport_options={"data_folder_in": folder, "data_folder_out": folder, "store_processed": False,
                                          "control_folder": str(tmp_path / "broker" / "control")})
    _fresh_producer_pool(app)
    yield
    conf.update(saved)
    _fresh_producer_pool(app)


def _fresh_producer_pool(app) -> None:
    """Forget pooled broker connections so the next task is sent to the broker now configured."""
    from kombu import pools

    pools.reset()
    app._after_fork()  # Celery's own reset of the app's connection and producer pools


def _shop_with_consenting_customers() -> None:
    make_shop()
    for customer in Customer.objects.all():
        Customer.objects.filter(pk=customer.pk).update(email=f"{customer.external_id}@example.com", email_consent=True, name=f"Pat {customer.pk}")


def _wait_for_text(page, url: str, pattern: str, seconds: float, proc=None, log=None) -> str:
    """Reload `url` until its text matches `pattern` (the way a person waits on a page)."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        text = page.inner_text("body")
        if re.search(pattern, text):
            return text
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the worker died: {log.read_text()[-3000:] if log else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"{url} never showed {pattern!r}; it shows: {text[:1500]}")
        time.sleep(2)


def test_campaign_scheduled_in_the_admin_is_sent_by_the_embedded_worker(staff_page, live_server, tmp_path, queued, shot):
    # given a two-variant campaign and the embedded worker with beat, when a marketer schedules it a few seconds ahead in the admin, then the worker sends it and the report shows sent counts per variant and no failures
    page = staff_page
    _shop_with_consenting_customers()
    variant = VariantFactory(campaign__holdout_share=0, campaign__name="Winter picks", name="A", share=50)
    VariantFactory(campaign=variant.campaign, name="B", share=50)
    campaign = variant.campaign
    with embedded_worker(tmp_path, site_url=live_server.url) as proc:
        page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
        shot(page, "01-change")
        send_at = timezone.localtime(timezone.now() + timedelta(seconds=8))
        page.fill("#id_send_at_0", send_at.strftime("%Y-%m-%d"))
        page.fill("#id_send_at_1", send_at.strftime("%H:%M:%S"))
        page.click("input[name=_save]")
        page.goto(f"{live_server.url}/admin/campaigns/campaign/")
        page.check(f"input[name=_selected_action][value='{campaign.pk}']")
        page.select_option("select[name=action]", "schedule_selected")
        page.click("button[name=index]")
        shot(page, "02-scheduled")
        assert "Scheduled" in page.inner_text("#result_list")
        report = f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/report/"
        text = _wait_for_text(page, report, r"Status: Sent\b", 180, proc, tmp_path / "worker.log")
    shot(page, "03-report")
    rows = {row.split("\t")[0]: row.split("\t") for row in page.inner_text("#funnel").splitlines()[1:]}
    assert set(rows) == {"A", "B"}
    assert sum(int(r[2]) for r in rows.values()) == 32 and all(r[3] == "0" for r in rows.values())  # sent, failed
    assert "failed" not in text.split("Funnel per variant")[0]
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT
    assert len(mail_recipients(tmp_path / "mail")) == 32


def test_segmentation_run_from_the_admin_is_queued_and_finishes(staff_page, live_server, tmp_path, queued, shot):
    # given a shop whose last order is years old, when a marketer presses "Run segmentation now", then the request returns at once with a queued job that the worker finishes, as of the day after the last order
    page = staff_page
    _shop_with_consenting_customers()
    with embedded_worker(tmp_path, site_url=live_server.url) as proc:
        page.goto(f"{live_server.url}/admin/mlcore/segmentationrun/")
        shot(page, "01-runs")
        started = time.monotonic()
        page.click("text=Run segmentation now")
        page.wait_for_url(re.compile(r"/admin/infra/job/\d+/change/"))
        assert time.monotonic() - started < 10
        shot(page, "02-job")
        job_url = page.url
        text = _wait_for_text(page, job_url, r"Succeeded", 240, proc, tmp_path / "worker.log")
        shot(page, "03-done")
    assert "segmentation run" in text
    page.goto(f"{live_server.url}/admin/mlcore/segmentationrun/")
    assert re.search(r"Dec\.? \d+, 2011|\d+ Dec 2011", page.inner_text("#result_list"))
    assert "Figures are as of 2011-12-" in page.inner_text("body")


def test_file_upload_is_queued_and_its_page_follows_it_to_the_report(staff_page, live_server, tmp_path, queued, shot):
    # given the embedded worker, when a marketer uploads an Online Retail file in the admin, then the request returns with a queued batch whose page follows it to the report with its cleaning counts
    from tests.customers.imports.samples import retail_text

    page = staff_page
    upload = tmp_path / "shop.csv"
    upload.write_text(retail_text())
    with embedded_worker(tmp_path, site_url=live_server.url) as proc:
        page.goto(f"{live_server.url}/admin/customers/importbatch/upload/")
        page.select_option("#id_kind", "orders")
        page.select_option("#id_preset", "online_retail")
        page.set_input_files("#id_file", str(upload))
        shot(page, "01-form")
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r"/admin/customers/importbatch/\d+/change/"))
        assert "is queued as import batch" in page.inner_text("body")
        shot(page, "02-queued")
        text = _wait_for_text(page, page.url, r"Succeeded", 180, proc, tmp_path / "worker.log")
    shot(page, "03-report")
    assert "exact_duplicates" in text and "refreshes every 3 seconds" not in text
