"""Computing and storing what customers say about each product (ReviewSummary).

`review_summaries_refresh` reads every review with text and its stored aspect sentiment as two
frames (one query each), makes each product's checked summary (mlcore.ml.feedback.summaries),
and replaces the stored rows of the products it covers: a product whose claims no longer pass
the check loses its summary rather than keep a stale one. Safe to run twice.
"""
from __future__ import annotations

from dataclasses import asdict

import pandas as pd
from django.db import transaction
from django.utils import timezone

from customers.models import Review
from mlcore.ml.feedback.summaries import METHOD, SummaryConfig, summarize_reviews
from mlcore.models import ReviewAspect, ReviewSummary


def review_frames(product_ids: list[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reviews with text (review_id, product_id, text, language) and their aspects (review_id, aspect, score, label)."""
    reviews = Review.objects.filter(product__isnull=False).exclude(text="")
    aspects = ReviewAspect.objects.filter(review__product__isnull=False)
    if product_ids is not None:
        reviews, aspects = reviews.filter(product_id__in=product_ids), aspects.filter(review__product_id__in=product_ids)
    r = pd.DataFrame.from_records(list(reviews.values_list("id", "product_id", "text", "language")), columns=["review_id", "product_id", "text", "language"])
    a = pd.DataFrame.from_records(list(aspects.values_list("review_id", "aspect", "score", "label")), columns=["review_id", "aspect", "score", "label"])
    return r, a


def _rows(reviews: pd.DataFrame, aspects: pd.DataFrame, config: SummaryConfig) -> list[ReviewSummary]:
    now, rows = timezone.now(), []
    counts = reviews["product_id"].value_counts()
    for product_id in counts[counts >= config.min_reviews].index:
        mine = reviews[reviews["product_id"] == product_id]
        summary = summarize_reviews(mine, aspects[aspects["review_id"].isin(mine["review_id"])], config)
        if summary and summary.claims:
            claims = [{**asdict(c), "review_ids": list(c.review_ids)} for c in summary.claims]
            rows.append(ReviewSummary(product_id=int(product_id), text=summary.text, claims=claims, review_count=summary.review_count, method=METHOD, computed_at=now))
    return rows


@transaction.atomic
def review_summaries_refresh(*, min_reviews: int = 10, product_ids: list[int] | None = None) -> dict:
    """Recompute the summaries of products with at least `min_reviews` reviews with text."""
    config = SummaryConfig(min_reviews=min_reviews)
    reviews, aspects = review_frames(product_ids)
    rows = _rows(reviews, aspects, config)
    stale = ReviewSummary.objects.all() if product_ids is None else ReviewSummary.objects.filter(product_id__in=product_ids)
    removed, _ = stale.exclude(product_id__in=[r.product_id for r in rows]).delete()
    ReviewSummary.objects.filter(product_id__in=[r.product_id for r in rows]).delete()
    ReviewSummary.objects.bulk_create(rows, batch_size=500)
    return {"summaries": len(rows), "removed": removed, "message": f"{len(rows)} product summaries"}
