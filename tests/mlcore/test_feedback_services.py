import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Order
from mlcore.feedback.selectors import (
    customers_with_recent_negative_review,
    product_aspect_table,
)
from mlcore.feedback.services import (
    high_value_customer_ids,
    review_alert_mark_done,
    reviews_score,
    sentiment_score_texts,
    sentiment_train,
    training,
)
from mlcore.feedback.services.models import model_version_sentiment_load
from mlcore.ml.feedback.baselines import LinearSentiment, MajoritySentiment
from mlcore.models import ModelVersion, ReviewAlert, ReviewAspect, ReviewSentiment
from mlcore.registry import services as registry
from tests.customers.factories import CustomerFactory, OrderLineFactory, ProductFactory, ReviewFactory
from tests.mlcore.feedback_support import NEGATIVE_TEXTS, POSITIVE_TEXTS

pytestmark = pytest.mark.django_db


def _rated_reviews(product, n=4):
    for i in range(n):
        for text in POSITIVE_TEXTS:
            ReviewFactory(product=product, rating=5, title="", text=f"{text} ({i})")
        for text in NEGATIVE_TEXTS:
            ReviewFactory(product=product, rating=1, title="", text=f"{text} ({i})")


def test_fallback_scores_and_says_so_when_no_model_exists():
    # given no sentiment model version, when texts are scored, then the zero-shot fallback scores them and is flagged
    results = sentiment_score_texts(texts=["I love this dress, it is perfect.", "Awful quality, I hate it.", "非常满意，质量很好"])
    assert [r.method for r in results] == ["fallback"] * 3
    assert all(r.model_version_id is None for r in results)
    assert results[0].label == "positive" and results[1].label == "negative"
    assert results[2].language == "zh"


def test_score_reviews_stores_sentiment_and_aspects_and_is_idempotent():
    # given two reviews, when scoring runs twice, then each has one sentiment (fallback) and the second run scores nothing
    good = ReviewFactory(title="", text="The fit is perfect and I love the colour.")
    ReviewFactory(title="", text="Terrible quality, the fabric ripped.")
    first, second = reviews_score(), reviews_score()
    assert first["scored"] == 2 and second["scored"] == 0
    assert ReviewSentiment.objects.count() == 2
    assert ReviewSentiment.objects.get(review=good).method == "fallback"
    assert set(ReviewAspect.objects.filter(review=good).values_list("aspect", flat=True)) == {"fit", "colour"}
    assert set(product_aspect_table(product_id=good.product_id)["aspect"]) == {"fit", "colour"}


def test_quick_training_registers_activates_and_triggers_rescoring():
    # given rated English reviews scored by the fallback, when a quick model is trained, then it is active and the next run re-scores with it
    _rated_reviews(ProductFactory())
    reviews_score()
    result = sentiment_train(language="en", quick=True)
    mv = ModelVersion.objects.get(pk=result["version_id"])
    assert result["activated"] and mv.is_active and mv.kind == "sentiment_en"
    assert mv.metrics["method"] in mv.metrics["candidates"] and "macro_f1" in mv.metrics["candidates"]["tfidf_linear"]
    assert {"negative_recall", "negative_precision"} <= set(mv.metrics)
    assert reviews_score()["scored"] == 48
    assert set(ReviewSentiment.objects.values_list("method", "model_version_id")) == {("model", mv.pk)}


def test_training_skips_a_language_without_enough_labels():
    # given no Chinese reviews, when training zh, then it is skipped and says why
    result = sentiment_train(language="zh", quick=True)
    assert "only 0 labelled zh reviews" in result["skipped"]


def test_a_worse_model_is_registered_but_not_activated():
    # given an active model, when the same data trains again, then the new version is ready but the active one stays (not better)
    _rated_reviews(ProductFactory())
    first = sentiment_train(language="en", quick=True)
    second = sentiment_train(language="en", quick=True)
    assert not second["activated"]
    assert registry.model_version_active(kind="sentiment_en").pk == first["version_id"]


class _CountingLinear(LinearSentiment):
    """The word TF-IDF model, remembering how many reviews it was last fitted on."""

    def fit(self, texts, targets):
        self.n_fitted = len(texts)
        return super().fit(texts, targets)


def test_selection_uses_a_validation_fold_and_the_served_model_is_refitted_on_all_reviews(monkeypatch):
    # given a learner and the majority floor as candidates, when trained, then the learner is selected on a
    # validation fold of the training reviews, measured on the held-out ones, and served refitted on all 48
    monkeypatch.setattr(training, "linear_candidates", lambda language: {"majority": MajoritySentiment, "counting": _CountingLinear})
    _rated_reviews(ProductFactory())
    result = sentiment_train(language="en", quick=True)
    mv = ModelVersion.objects.get(pk=result["version_id"])
    served = model_version_sentiment_load(mv)
    assert result["method"] == "counting" and served.n_fitted == 48 == mv.metrics["n_refit"] == mv.params["n_fitted"]
    assert mv.metrics["n_train"] + mv.metrics["n_test"] == 48 and mv.metrics["refit_on_all"]
    assert mv.metrics["selection"]["n_fit"] + mv.metrics["selection"]["n_validation"] == mv.metrics["n_train"]
    assert mv.metrics["candidates"]["counting"]["macro_f1"] > mv.metrics["candidates"]["majority"]["macro_f1"]


def test_a_new_version_is_compared_with_the_active_one_on_reviews_it_has_not_seen(monkeypatch):
    # given an active model that learned only the majority class, when newer reviews arrive and training runs,
    # then the comparison uses the held-out reviews written after the active version's data and the new model wins
    monkeypatch.setattr(training, "linear_candidates", lambda language: {"majority": MajoritySentiment})
    _rated_reviews(ProductFactory())
    first = sentiment_train(language="en", quick=True)
    monkeypatch.setattr(training, "linear_candidates", lambda language: {"tfidf_linear": LinearSentiment})
    later = timezone.now() + dt.timedelta(days=1)
    product = ProductFactory()
    for i in range(12):  # 144 newer reviews: about 29 of the held-out ones are newer than the active version
        for rating, texts in ((5, POSITIVE_TEXTS), (1, NEGATIVE_TEXTS)):
            for text in texts:
                ReviewFactory(product=product, rating=rating, title="", text=f"{text} [{i}]", created_at=later)
    second = sentiment_train(language="en", quick=True)
    mv = ModelVersion.objects.get(pk=second["version_id"])
    assert second["activated"] and mv.metrics["active_before"]["version_id"] == first["version_id"]
    assert mv.metrics["active_before"]["on"] == "unseen held-out reviews"


def test_negative_review_by_high_value_customer_raises_one_alert():
    # given a big spender and a small one who both write negative reviews, when scoring runs twice, then one alert exists for the big spender
    rich, poor = CustomerFactory(), CustomerFactory()
    for customer, price in ((rich, "500.00"), (poor, "1.00")):
        OrderLineFactory(order__customer=customer, unit_price=Decimal(price), quantity=1)
    for customer in [CustomerFactory() for _ in range(3)]:
        OrderLineFactory(order__customer=customer, unit_price=Decimal("10.00"))
    bad = ReviewFactory(customer=rich, rating=1, title="", text="Terrible, awful quality, I hate it.")
    ReviewFactory(customer=poor, rating=1, title="", text="Terrible, awful quality, I hate it.")
    reviews_score()
    ReviewSentiment.objects.filter(review=bad).delete()  # forces a re-score of the same review
    reviews_score()
    assert rich.pk in high_value_customer_ids()
    assert list(ReviewAlert.objects.values_list("review_id", "customer_id", "status")) == [(bad.pk, rich.pk, "open")]


def test_a_cancelled_order_does_not_make_a_customer_high_value():
    # given four customers with small sales, one of whom also has a cancelled order of 80,000.00, when the high-value set is taken at the 75th percentile, then the cancelled order does not put that customer in it
    small = [CustomerFactory() for _ in range(4)]
    for i, customer in enumerate(small):
        OrderLineFactory(order__customer=customer, unit_price=Decimal(f"{10 + i}.00"), quantity=1)
    OrderLineFactory(order__customer=small[0], order__status=Order.Status.CANCELLED, unit_price=Decimal("80000.00"), quantity=1)
    assert high_value_customer_ids(percentile=75) == {small[3].pk}


def test_mark_done_is_safe_twice(staff_user):
    # given an open alert, when marked done twice, then the first closes it with who and when, the second changes nothing
    review = ReviewFactory(customer=CustomerFactory())
    alert = ReviewAlert.objects.create(review=review, customer=review.customer, reason="test")
    assert review_alert_mark_done(alert_id=alert.pk, user_id=staff_user.pk)
    assert not review_alert_mark_done(alert_id=alert.pk, user_id=staff_user.pk)
    alert.refresh_from_db()
    assert alert.status == "done" and alert.done_by_id == staff_user.pk and alert.done_at is not None



def test_customers_with_recent_negative_review():
    # given a recent negative, an old negative and a recent positive review, when asked for 30 days, then only the first customer is listed
    now = timezone.now()
    recent, old, happy = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer, days, label in ((recent, 3, "negative"), (old, 60, "negative"), (happy, 3, "positive")):
        review = ReviewFactory(customer=customer, created_at=now - dt.timedelta(days=days))
        ReviewSentiment.objects.create(review=review, language="en", score=-0.5 if label == "negative" else 0.5, label=label, method="fallback", scored_at=now)
    assert list(customers_with_recent_negative_review(days=30)) == [recent.pk]


def test_portuguese_reviews_are_scored_by_the_multilingual_encoder_and_flagged():
    # given Portuguese reviews (language pt from the import) when scored then the multilingual fallback scores them, flagged, not the English model
    from mlcore.feedback.services.models import serving_model

    good = ReviewFactory(title="", text="Adorei, produto excelente e chegou rápido.", language="pt")
    bad = ReviewFactory(title="", text="Péssimo, veio quebrado e não recomendo.", language="pt")
    reviews_score()
    stored = {s.review_id: s for s in ReviewSentiment.objects.all()}
    assert {s.language for s in stored.values()} == {"pt"} and {s.method for s in stored.values()} == {"fallback"}
    assert stored[good.pk].score > stored[bad.pk].score
    assert serving_model("pt").model.language == "multilingual"
    assert sentiment_score_texts(texts=["Muito bom"], languages=["pt"])[0].multilingual
    assert not sentiment_score_texts(texts=["Very good"], languages=["en"])[0].multilingual


def test_the_stack_with_embeddings_fits_on_at_most_the_configured_reviews(settings, monkeypatch):
    # given more training reviews than FEEDBACK_STACK_MAX_TRAIN, when the stack candidate fits, then it embeds and fits a fixed random subset of that size
    settings.FEEDBACK_STACK_MAX_TRAIN = 10
    seen = []

    class _Recording:
        def fit(self, texts, targets):
            seen.append((list(texts), list(targets)))
            return self

    monkeypatch.setattr(training, "stack_candidate", lambda language, **kwargs: _Recording)
    texts, targets = [f"review {i}" for i in range(30)], [i % 2 for i in range(30)]
    candidate = training._candidates("en", quick=False)["stacked"]
    candidate().fit(texts, targets)
    candidate().fit(texts, targets)
    assert len(seen[0][0]) == 10 and seen[0] == seen[1]
    assert all(texts.index(t) % 2 == y for t, y in zip(*seen[0], strict=True))
    settings.FEEDBACK_STACK_MAX_TRAIN = 100
    candidate().fit(texts, targets)
    assert seen[2][0] == texts


def test_a_served_stack_is_stored_loaded_and_scores_with_its_rebuilt_encoder(monkeypatch):
    # given rated reviews and the stack with MiniLM embeddings as the only candidate, when it is trained and reviews are scored,
    # then the stored version loads without its encoder, rebuilds it from the recorded path and scores every review with it
    from mlcore.ml.feedback import ensembles

    stack = training._StackCandidate("en", training.linear_candidates("en"))
    monkeypatch.setattr(training, "_candidates", lambda language, quick, on_gpu=False: {"stacked": lambda: stack})
    embedded, build = [], ensembles.build_encoder
    monkeypatch.setattr(ensembles, "build_encoder", lambda name, path="": (lambda real: lambda texts: embedded.extend(texts) or real(texts))(build(name, path)))
    _rated_reviews(ProductFactory())
    result = sentiment_train(language="en")
    assert len(embedded) == len(set(embedded)) == 48  # selection, held-out fit and refit on all: each review embedded once
    mv = ModelVersion.objects.get(pk=result["version_id"])
    served = model_version_sentiment_load(mv)
    assert result["method"] == "stacked" and mv.is_active and served.encoder is None
    assert served.names == ["tfidf_linear", "nbsvm", "word_char_ensemble", "encoder_network"]
    assert reviews_score()["scored"] == 48 and served.encoder is not None
    assert set(ReviewSentiment.objects.values_list("method", "model_version_id")) == {("model", mv.pk)}
    scored = sentiment_score_texts(texts=["I love this dress, it is perfect.", "Awful quality, I hate it."])
    assert [r.label for r in scored] == ["positive", "negative"]
