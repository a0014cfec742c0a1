"""Sharded review scoring: the plan's review-id ranges, idempotent shard reruns, the chord's one Job row."""
from decimal import Decimal

import pytest

from clmsite.routing import queue_for
from infra import jobs
from infra.models import Job
from mlcore.feedback.services import reviews_score_plan, reviews_score_range, scoring
from mlcore.feedback.tasks import score_reviews, score_reviews_shard
from mlcore.models import ReviewAlert, ReviewAspect, ReviewSentiment
from tests.customers.factories import CustomerFactory, OrderLineFactory, ReviewFactory

pytestmark = pytest.mark.django_db
NEGATIVE = "Terrible, awful quality, I hate it."


@pytest.fixture
def shop(settings):
    """Eight reviews to score, shards of 3; a high-value customer wrote the negative ones, so they raise alerts."""
    settings.REVIEW_SCORE_SHARD_SIZE = 3
    rich = CustomerFactory()
    OrderLineFactory(order__customer=rich, unit_price=Decimal("500.00"), quantity=1)
    for _ in range(4):
        OrderLineFactory(order__customer=CustomerFactory(), unit_price=Decimal("10.00"), quantity=1)
    negative = [ReviewFactory(customer=rich, rating=1, title="", text=f"{NEGATIVE} ({i})") for i in range(3)]
    positive = [ReviewFactory(title="", text=f"The fit is perfect and I love the colour ({i}).") for i in range(5)]
    ReviewFactory(title="", text="")  # no text: never needs scores
    return {"rich": rich, "negative": negative, "reviews": sorted(negative + positive, key=lambda r: r.pk)}


def test_the_plan_cuts_the_reviews_needing_scores_into_ranges_of_the_shard_size(shop):
    # given 8 reviews with text and shards of 3, when planned (also with a limit), then the ranges hold every review once, 3 at most each
    plan = reviews_score_plan()
    ids = [r.pk for r in shop["reviews"]]
    held = [[i for i in ids if a <= i < b] for a, b in plan.shards]
    assert plan.reviews == 8 and len(plan.shards) == 3 and sum(held, []) == ids and max(map(len, held)) == 3
    limited = reviews_score_plan(limit=5)
    assert limited.reviews == 5 and limited.shards[-1][1] == ids[4] + 1


def test_the_task_scores_every_review_once_in_shards_on_one_job(shop):
    # given 8 reviews and shards of 3, when the task runs (eager: the chord in-process), then one job counts all 8 and holds the summed counts
    result = score_reviews.apply().get()
    job = Job.objects.get(pk=result["job_id"])
    assert (result["reviews"], result["shards"]) == (8, 3)
    assert job.status == Job.Status.SUCCEEDED and job.done == job.total == 8 and job.message == "8 reviews scored"
    assert job.result == {"scored": 8, "aspects": ReviewAspect.objects.count(), "alerts": 3, "shards": 3}
    assert job.result["aspects"] > 0 and ReviewSentiment.objects.count() == 8 and ReviewAlert.objects.count() == 3
    assert Job.objects.count() == 1


def test_with_no_review_to_score_the_task_ends_at_once_without_a_chord(shop):
    # given every review scored, when the task runs again, then it returns scored 0 with no shards and its job succeeded
    score_reviews.apply().get()
    again = score_reviews.apply().get()
    job = Job.objects.get(pk=again["job_id"])
    assert again["scored"] == 0 and "shards" not in again
    assert job.status == Job.Status.SUCCEEDED and job.result == {"scored": 0, "aspects": 0, "alerts": 0}


def test_a_shard_run_again_writes_nothing_new_and_raises_no_second_alert(shop):
    # given the first shard (the 3 negative reviews) run once on a job, when it runs again, then nothing is re-scored, no alert is added and progress stays
    job = jobs.job_create(kind="score_reviews")
    jobs.job_start(job_id=job.pk, total=8)
    first_id, end_id = reviews_score_plan().shards[0]
    kwargs = {"first_id": first_id, "end_id": end_id, "job_id": job.pk}
    once = score_reviews_shard.apply(kwargs=kwargs).get()
    stored = dict(ReviewSentiment.objects.values_list("review_id", "scored_at"))
    again = score_reviews_shard.apply(kwargs=kwargs).get()
    assert (once["scored"], once["alerts"]) == (3, 3) and again == {"scored": 0, "aspects": 0, "alerts": 0}
    assert dict(ReviewSentiment.objects.values_list("review_id", "scored_at")) == stored and set(stored) == {r.pk for r in shop["negative"]}
    assert sorted(ReviewAlert.objects.values_list("review_id", flat=True)) == [r.pk for r in shop["negative"]]
    assert Job.objects.get(pk=job.pk).done == 3


def test_a_batch_lost_before_its_alerts_is_scored_again_and_alerts_once(shop, monkeypatch):
    # given a batch that breaks while raising its alerts (a lost worker), when the shard is redelivered, then the batch was not kept and now scores and alerts once
    first_id, end_id = reviews_score_plan().shards[0]
    real = scoring.review_alerts_raise

    def lost(**kwargs):
        raise ConnectionError("worker lost")

    monkeypatch.setattr(scoring, "review_alerts_raise", lost)
    with pytest.raises(ConnectionError):
        reviews_score_range(first_id=first_id, end_id=end_id)
    assert not ReviewSentiment.objects.exists() and not ReviewAlert.objects.exists()
    monkeypatch.setattr(scoring, "review_alerts_raise", real)
    assert reviews_score_range(first_id=first_id, end_id=end_id)["alerts"] == 3
    assert ReviewAlert.objects.count() == 3 and ReviewSentiment.objects.count() == 3


def test_a_failing_shard_fails_the_job_with_its_reason(shop, monkeypatch):
    # given scoring that breaks for the second range, when the task runs, then the job is failed with the reason and that range is unscored
    first_id, end_id = reviews_score_plan().shards[1]
    real = scoring.reviews_score_batch

    def broken(ids, high_value=None):
        if first_id <= ids[0] < end_id:
            raise RuntimeError("sentiment model unreadable")
        return real(ids, high_value)

    monkeypatch.setattr(scoring, "reviews_score_batch", broken)
    with pytest.raises(RuntimeError):
        score_reviews.apply().get()
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED and "sentiment model unreadable" in job.error
    assert not ReviewSentiment.objects.filter(review_id__gte=first_id, review_id__lt=end_id).exists()
    assert ReviewSentiment.objects.filter(review_id__lt=first_id).count() == 3


def test_the_shard_tasks_route_to_the_ml_queue():
    # given the route table, when the new tasks are routed, then they go to the ml queue like every mlcore task
    assert {queue_for(name) for name in ("mlcore.score_reviews", "mlcore.score_reviews_shard", "mlcore.score_reviews_finish")} == {"ml"}
