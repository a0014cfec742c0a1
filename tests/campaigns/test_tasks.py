"""Celery tasks of campaigns: stable names, the email queue, and safe to run twice."""
from __future__ import annotations

import pytest
from django.conf import settings

from campaigns import tasks
from campaigns.models import Campaign, Conversion, Suppression
from clmsite.celery import app
from clmsite.routing import queue_for
from infra.models import Job
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory

DEPLOYED = {"campaigns.dispatch_due", "campaigns.send_batch", "campaigns.attribute_conversions", "campaigns.record_bounce"}


def test_deployed_task_names_never_change_and_route_to_the_email_queue():
    # given the task registry, when the campaign tasks are listed, then the deployed names are all there and route to email (the assistant's, copy drafting and the uplift training go to ml)
    registered = {name for name in app.tasks if name.startswith("campaigns.") and not name.startswith(("campaigns.assistant_", "campaigns.copy_"))}
    assert registered == DEPLOYED | {"campaigns.train_uplift"}
    assert {queue_for(name) for name in registered - {"campaigns.train_uplift"}} == {"email"}
    assert queue_for("campaigns.train_uplift") == "ml" and queue_for("campaigns.copy_drafts_generate") == "ml"
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"campaigns.dispatch_due", "campaigns.attribute_conversions"} <= beat


@pytest.mark.django_db
def test_send_batch_twice_sends_once_and_completes_the_job(mailoutbox):
    # given a sending campaign, when send_batch is delivered twice, then each customer got one message and the job succeeded
    CustomerFactory()
    CustomerFactory()
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    from campaigns.services.lifecycle import campaign_start

    campaign_start(campaign_id=variant.campaign_id)
    job_id = Campaign.objects.get().job_id
    first = tasks.send_batch.delay(campaign_id=variant.campaign_id, job_id=job_id).get()
    second = tasks.send_batch.delay(campaign_id=variant.campaign_id, job_id=job_id).get()
    assert first["sent"] == 2 and second["state"] == "stopped" and second["sent"] == 0
    assert len(mailoutbox) == 2
    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.SUCCEEDED and job.done == 2


@pytest.mark.django_db
def test_dispatch_attribute_and_bounce_tasks_are_safe_twice():
    # given nothing due, no clicks and one bounced address, when each task runs twice, then the second run changes nothing
    CustomerFactory(email="b@example.com")
    assert tasks.dispatch_due.delay().get() == tasks.dispatch_due.delay().get() == {"started": [], "runs": [], "waves": [], "restarted": []}
    assert tasks.attribute_conversions.delay().get()["attributed"] == tasks.attribute_conversions.delay().get()["attributed"] == 0
    tasks.record_bounce.delay(email="b@example.com").get()
    tasks.record_bounce.delay(email="b@example.com").get()
    assert Suppression.objects.count() == 1 and not Conversion.objects.exists()


@pytest.mark.django_db
def test_run_eagerly_the_lanes_share_one_task_time_and_do_not_requeue_inline(mailoutbox, settings, django_capture_on_commit_callbacks):
    # given no broker (the send runs inside the caller's request), batches of 2, 2 lanes and no time left after a batch, when 7 customers' campaign starts, then each lane sent one batch and stopped: 4 sent, 3 queued for the worker's watchdog, the campaign and its job still honestly sending
    settings.CAMPAIGN_BATCH_SIZE, settings.CAMPAIGN_SEND_CONCURRENCY, settings.CAMPAIGN_TASK_SECONDS = 2, 2, 0
    for _ in range(7):
        CustomerFactory()
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    from campaigns.services.lifecycle import campaign_start

    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_start(campaign_id=variant.campaign_id)
    campaign = Campaign.objects.get()
    assert len(mailoutbox) == 4
    assert campaign.status == Campaign.Status.SENDING and campaign.deliveries.filter(status="queued").count() == 3
    job = Job.objects.get(pk=campaign.job_id)
    assert job.status == Job.Status.RUNNING and (job.done, job.total) == (4, 7)
