import io

import pytest
from django.core.management import call_command

from infra.models import Job
from mlcore.feedback.tasks import score_reviews, train_sentiment
from mlcore.models import ModelVersion, ReviewSentiment
from tests.customers.factories import ProductFactory, ReviewFactory
from tests.mlcore.feedback_support import NEGATIVE_TEXTS, POSITIVE_TEXTS, tiny_bert_folder

pytestmark = pytest.mark.django_db


def test_task_names_are_stable():
    # given the deployed beat schedule, when the tasks are imported, then their names match it
    assert score_reviews.name == "mlcore.score_reviews"
    assert train_sentiment.name == "mlcore.gpu.train_sentiment"


def test_score_reviews_task_twice_scores_once():
    # given one review, when the task runs twice, then it is scored once (one shard, then none) and both jobs succeed
    ReviewFactory(title="", text="Lovely dress.")
    first = score_reviews.apply().get()
    second = score_reviews.apply().get()
    assert (first["shards"], second["scored"]) == (1, 0) and "shards" not in second
    assert [job.result["scored"] for job in Job.objects.order_by("pk")] == [1, 0]
    assert ReviewSentiment.objects.count() == 1
    assert list(Job.objects.values_list("status", flat=True)) == ["succeeded", "succeeded"]


def test_train_sentiment_with_a_tiny_transformer_registers_the_best(settings, tmp_path):
    # given rated reviews and a tiny random encoder as base, when the task trains twice, then both candidates are measured and only one version is active
    settings.FEEDBACK_TRANSFORMER_BASE = str(tiny_bert_folder(tmp_path / "tiny"))
    settings.FEEDBACK_CPU_MAX_TRAIN = 16
    product = ProductFactory()
    for i in range(4):
        for text in POSITIVE_TEXTS:
            ReviewFactory(product=product, rating=5, title="", text=f"{text} {i}")
        for text in NEGATIVE_TEXTS:
            ReviewFactory(product=product, rating=2, title="", text=f"{text} {i}")
    first = train_sentiment.apply(kwargs={"languages": ["en"]}).get()
    train_sentiment.apply(kwargs={"languages": ["en"]}).get()
    mv = ModelVersion.objects.get(pk=first["languages"]["en"]["version_id"])
    assert set(mv.metrics["candidates"]) == {"tfidf_linear", "nbsvm", "word_char_ensemble", "linear_stacked", "encoder_stacked", "stacked", "transformer"}
    assert mv.metrics["refit_on_all"] and mv.params["n_fitted"] == 48
    assert ModelVersion.objects.filter(kind="sentiment_en", is_active=True).count() == 1


def test_management_commands_train_and_score():
    # given rated reviews, when the demo steps run, then a model is trained and every review scored with it
    product = ProductFactory()
    for text in POSITIVE_TEXTS * 4 + NEGATIVE_TEXTS * 4:
        ReviewFactory(product=product, rating=5 if text in POSITIVE_TEXTS else 1, title="", text=text)
    out = io.StringIO()
    call_command("train_sentiment", "--quick", stdout=out)
    call_command("score_reviews", stdout=out)
    assert "en: v1 " in out.getvalue() and "refitted on all labelled reviews, activated" in out.getvalue()
    assert "zh: skipped" in out.getvalue()
    assert "en: tfidf_linear: validation macro-F1" in out.getvalue()  # progress printed while training
    assert "scored 48 reviews" in out.getvalue()


def test_find_review_topics_command_names_clusters():
    # given reviews about two subjects, when topics are found, then the printout names both by their words
    for i in range(6):
        ReviewFactory(title="", text=f"The zipper broke, zipper quality is bad {i}")
        ReviewFactory(title="", text=f"Shipping was slow, the parcel shipping took weeks {i}")
    out = io.StringIO()
    call_command("find_review_topics", "--topics", "2", stdout=out)
    assert "zipper" in out.getvalue() and "shipping" in out.getvalue()
