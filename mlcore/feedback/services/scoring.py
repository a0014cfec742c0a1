"""Scoring review sentiment and aspects, and storing them.

`sentiment_score_texts` scores any texts (the partner API). Reviews whose stored sentiment is
missing or came from something other than the language's active model are scored in batches of
500 (sentiment, aspects, the review.negative webhook and alerts, one transaction a batch):
`reviews_score_plan` cuts them into review-id ranges for the sharded task, `reviews_score_range`
scores one range, and `reviews_score` scores them all in one process (commands, benches). Safe to
run twice: a scored review no longer needs scores, and a review raises at most one alert.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Review
from customers.webhooks.services import webhook_event_emit, webhook_event_wanted
from infra.jobs import job_progress
from infra.shards import shard_ranges
from mlcore.feedback.services.alerts import high_value_customer_ids, review_alerts_raise
from mlcore.feedback.services.config import LANGUAGES, feedback_settings
from mlcore.feedback.services.models import sentiment_kind, serving_model
from mlcore.ml.feedback.labels import label_from_probability, review_texts
from mlcore.ml.feedback.language import scoring_language
from mlcore.ml.feedback.topics import aspect_mentions
from mlcore.models import ReviewAspect, ReviewSentiment
from mlcore.registry import services as registry

COUNTS = ("scored", "aspects", "alerts")


@dataclass(frozen=True)
class TextSentiment:
    score: float  # -1 .. +1
    p_positive: float
    label: str
    language: str
    method: str  # "model" or "fallback"
    model_version_id: int | None
    model_method: str  # tfidf_linear, char_ngram_linear, snownlp, transformer, fallback
    multilingual: bool = False  # scored by the multilingual encoder (a language without a model of its own)


def _language_of(text: str, given: str | None) -> str:
    return scoring_language(text, given)[:8]


def sentiment_score_texts(*, texts: list[str], languages: list[str | None] | None = None) -> list[TextSentiment]:
    """Sentiment of each text with its language's serving model (or the fallback, flagged)."""
    langs = [_language_of(t, g) for t, g in zip(texts, languages or [None] * len(texts), strict=True)]
    band = feedback_settings().neutral_band
    out: list[TextSentiment | None] = [None] * len(texts)
    for language in sorted(set(langs)):
        idx = [i for i, lang in enumerate(langs) if lang == language]
        serving = serving_model(language)
        p = np.clip(serving.model.predict_proba([texts[i] for i in idx]), 0.0, 1.0)
        labels = label_from_probability(p, band)
        method = "fallback" if serving.is_fallback else "model"
        model_method = getattr(serving.model, "method", "model")
        for j, i in enumerate(idx):
            out[i] = TextSentiment(
                score=round(float(2 * p[j] - 1), 4), p_positive=round(float(p[j]), 4), label=str(labels[j]),
                language=language, method=method, model_version_id=getattr(serving.version, "pk", None), model_method=model_method,
                multilingual=language not in LANGUAGES,
            )
    return out  # type: ignore[return-value]


def review_sentiment_detail(*, review_id: int) -> dict | None:
    """Stored sentiment and aspects of a review; an unscored one is scored now (not stored). None: no review."""
    review = Review.objects.filter(pk=review_id).values("id", "title", "text", "language").first()
    if review is None:
        return None
    stored = ReviewSentiment.objects.filter(review_id=review_id).first()
    aspects = list(ReviewAspect.objects.filter(review_id=review_id).values("aspect", "score", "label"))
    if stored is not None:
        return {"review_id": review_id, "stored": True, "score": stored.score, "label": stored.label, "language": stored.language,
                "method": stored.method, "model_version_id": stored.model_version_id, "scored_at": stored.scored_at, "aspects": aspects,
                "multilingual": stored.language not in LANGUAGES}
    text = review_texts(pd.Series([review["title"]]), pd.Series([review["text"]])).iloc[0]
    now = sentiment_score_texts(texts=[text], languages=[review["language"] or None])[0]
    return {"review_id": review_id, "stored": False, "score": now.score, "label": now.label, "language": now.language,
            "method": now.method, "model_version_id": now.model_version_id, "scored_at": None, "aspects": aspects,
            "multilingual": now.multilingual}


def reviews_needing_scores():
    """Reviews with text whose sentiment is missing or not from their language's active model."""
    stale = Q(sentiment__isnull=True)
    for language in LANGUAGES:
        active = registry.model_version_active(kind=sentiment_kind(language))
        if active is not None:
            stale |= Q(sentiment__language=language) & (Q(sentiment__model_version__isnull=True) | ~Q(sentiment__model_version=active.pk))
    return Review.objects.filter(stale).exclude(text="", title="").order_by("id")


def _batch_frame(ids: list[int]) -> pd.DataFrame:
    rows = Review.objects.filter(pk__in=ids).values_list("id", "customer_id", "product_id", "title", "text", "language")
    frame = pd.DataFrame.from_records(list(rows), columns=["review_id", "customer_id", "product_id", "title", "text", "language"])
    frame["full_text"] = review_texts(frame["title"], frame["text"])
    frame["lang"] = [_language_of(t, g) for t, g in zip(frame["full_text"], frame["language"], strict=True)]
    return frame


@transaction.atomic
def _store(frame: pd.DataFrame, scored: list[TextSentiment], aspects: pd.DataFrame, aspect_scores: list[TextSentiment]) -> None:
    now = timezone.now()
    ReviewSentiment.objects.bulk_create(
        [
            ReviewSentiment(review_id=int(rid), language=s.language, score=s.score, label=s.label, method=s.method,
                            model_version_id=s.model_version_id, scored_at=now)
            for rid, s in zip(frame["review_id"], scored, strict=True)
        ],
        update_conflicts=True, unique_fields=["review"], update_fields=["language", "score", "label", "method", "model_version", "scored_at"],
    )
    ReviewAspect.objects.filter(review_id__in=frame["review_id"].tolist()).delete()
    ReviewAspect.objects.bulk_create([
        ReviewAspect(review_id=int(frame["review_id"].iloc[int(i)]), aspect=aspect, score=s.score, label=s.label)
        for i, aspect, s in zip(aspects["index"], aspects["aspect"], aspect_scores, strict=True)
    ])


class _HighValue:
    """The high-value customer set, computed on first need and then reused for the whole run."""

    def __init__(self):
        self._ids: set[int] | None = None

    def get(self) -> set[int]:
        if self._ids is None:
            self._ids = high_value_customer_ids()
        return self._ids


def reviews_score_batch(ids: list[int], high_value: _HighValue | None = None) -> dict:
    """Score, store and alert one batch of review ids; returns counts."""
    frame = _batch_frame(ids)
    if frame.empty:
        return {"scored": 0, "aspects": 0, "alerts": 0}
    scored = sentiment_score_texts(texts=frame["full_text"].tolist(), languages=frame["lang"].tolist())
    aspects = aspect_mentions(frame["full_text"].tolist(), frame["lang"].tolist())
    aspect_langs = [frame["lang"].iloc[int(i)] for i in aspects["index"]]
    aspect_scores = sentiment_score_texts(texts=aspects["text"].tolist(), languages=aspect_langs) if len(aspects) else []
    was_negative = set(ReviewSentiment.objects.filter(review_id__in=frame["review_id"].tolist(), label="negative").values_list("review_id", flat=True))
    negative = [int(rid) for rid, c, s in zip(frame["review_id"], frame["customer_id"], scored, strict=True) if s.label == "negative" and pd.notna(c)]
    valuable = (high_value or _HighValue()).get() if negative else set()
    # scores, webhook and alerts commit together: a worker lost in between leaves the batch unscored,
    # so the redelivered shard scores it again and raises its alerts once (none lost, none twice)
    with transaction.atomic():
        _store(frame, scored, aspects, aspect_scores)
        review_negative_emit(frame=frame, scored=scored, was_negative=was_negative)
        alerts = review_alerts_raise(review_ids=negative, high_value=valuable) if negative else 0
    return {"scored": len(frame), "aspects": len(aspects), "alerts": alerts}


def review_negative_emit(*, frame: pd.DataFrame, scored: list[TextSentiment], was_negative: set[int]) -> int:
    """One review.negative webhook per scoring batch (up to its 500 reviews) with the reviews that
    turned negative; a review re-scored negative again is not sent twice. Returns how many."""
    new = [(int(rid), s) for rid, s in zip(frame["review_id"], scored, strict=True) if s.label == "negative" and int(rid) not in was_negative]
    if not new or not webhook_event_wanted(event="review.negative"):
        return 0
    rows = Review.objects.filter(pk__in=[rid for rid, _ in new]).values("id", "external_id", "rating", "created_at", "product__sku", "customer__external_id")
    by_id = {row["id"]: row for row in rows}
    reviews = [
        {"review_id": rid, "external_id": by_id[rid]["external_id"], "product_sku": by_id[rid]["product__sku"],
         "customer_external_id": by_id[rid]["customer__external_id"], "rating": by_id[rid]["rating"],
         "created_at": by_id[rid]["created_at"], "sentiment_score": s.score, "language": s.language}
        for rid, s in new if rid in by_id
    ]
    webhook_event_emit(event="review.negative", payload={"count": len(reviews), "reviews": reviews})
    return len(reviews)


def review_counts_sum(parts: list[dict]) -> dict:
    """The scored, aspects and alerts counts of batches or shards, added up."""
    return {key: sum(int(part.get(key, 0)) for part in parts) for key in COUNTS}


@dataclass(frozen=True)
class ScoringPlan:
    reviews: int  # reviews needing scores when planned
    shards: tuple[tuple[int, int], ...]  # half-open review-id ranges [first_id, end_id)


def reviews_score_plan(*, limit: int | None = None, size: int | None = None) -> ScoringPlan:
    """The reviews needing scores now (the first `limit`), cut into id ranges of `size` reviews
    (REVIEW_SCORE_SHARD_SIZE); one read of their ids."""
    ids = np.fromiter(reviews_needing_scores().values_list("id", flat=True)[:limit], dtype=np.int64)
    return ScoringPlan(reviews=len(ids), shards=tuple(shard_ranges(ids=ids, size=size or settings.REVIEW_SCORE_SHARD_SIZE)))


def reviews_score_range(*, first_id: int, end_id: int, batch_size: int = 500, job_id: int | None = None,
                        high_value: _HighValue | None = None) -> dict:
    """Score the reviews with ids in [first_id, end_id) that need it, batch by batch; returns counts.

    The cursor only moves forward, so a review that still needs scores after its batch (its model
    fell back) is not scored again in this run. Progress advances after each batch's transaction.
    """
    parts, high_value, cursor = [], high_value or _HighValue(), first_id
    while ids := list(reviews_needing_scores().filter(pk__gte=cursor, pk__lt=end_id).values_list("id", flat=True)[:batch_size]):
        parts.append(reviews_score_batch(ids, high_value))
        cursor = ids[-1] + 1
        if job_id:
            job_progress(job_id=job_id, advance=parts[-1]["scored"])
    return review_counts_sum(parts)


def reviews_score(*, batch_size: int = 500, limit: int | None = None, job_id: int | None = None) -> dict:
    """Score every review that needs it (or the first `limit`), in this process, range after range."""
    plan = reviews_score_plan(limit=limit)
    if job_id:
        job_progress(job_id=job_id, done=0, total=plan.reviews, message="scoring reviews")
    high_value = _HighValue()
    return review_counts_sum([reviews_score_range(first_id=a, end_id=b, batch_size=batch_size, job_id=job_id, high_value=high_value)
                              for a, b in plan.shards])
