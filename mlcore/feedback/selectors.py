"""Reads of review sentiment for other areas: campaign exclusions, per-product sentiment over time and aspect tables (admin), and the stored
review summaries with their supporting reviews (product page, templates).
"""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
from django.db.models import Avg, Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from customers.models import Review
from mlcore.ml.feedback.topics import aspect_sentiment_table
from mlcore.models import ReviewAlert, ReviewAspect, ReviewSentiment, ReviewSummary


def customers_with_recent_negative_review(*, days: int = 30) -> QuerySet:
    """Ids of customers with a review labelled negative in the last `days` days (campaign exclusion)."""
    since = timezone.now() - timedelta(days=days)
    return (
        ReviewSentiment.objects.filter(label=ReviewSentiment.Label.NEGATIVE, review__created_at__gte=since, review__customer__isnull=False)
        .values_list("review__customer_id", flat=True)
        .order_by("review__customer_id")  # Meta.ordering columns would otherwise break DISTINCT
        .distinct()
    )


def product_sentiment_by_month(*, product_id: int) -> list[dict]:
    """Month, reviews, mean sentiment and mean rating of a product's scored reviews."""
    rows = (
        ReviewSentiment.objects.filter(review__product_id=product_id)
        .annotate(month=TruncMonth("review__created_at"))
        .values("month")
        .annotate(reviews=Count("id"), score_mean=Avg("score"), rating_mean=Avg("review__rating"))
        .order_by("month")
    )
    return list(rows)


def product_aspect_table(*, product_id: int | None = None) -> pd.DataFrame:
    """Per product and aspect: mentions, mean score, share negative (most-mentioned first)."""
    qs = ReviewAspect.objects.all()
    if product_id is not None:
        qs = qs.filter(review__product_id=product_id)
    rows = qs.values_list("review__product_id", "aspect", "score", "label")
    frame = pd.DataFrame.from_records(list(rows), columns=["product_id", "aspect", "score", "label"])
    return aspect_sentiment_table(frame)


def product_sentiment_summary(*, product_id: int) -> dict:
    agg = ReviewSentiment.objects.filter(review__product_id=product_id).aggregate(reviews=Count("id"), score_mean=Avg("score"))
    by_label = dict(ReviewSentiment.objects.filter(review__product_id=product_id).values_list("label").annotate(n=Count("id")).values_list("label", "n"))
    return {**agg, "by_label": by_label}


def customer_feedback_summary(*, customer_id: int) -> dict:
    """Reviews, mean sentiment, last label and open alerts of one customer (the admin panel)."""
    qs = ReviewSentiment.objects.filter(review__customer_id=customer_id)
    agg = qs.aggregate(reviews=Count("id"), score_mean=Avg("score"))
    last = qs.order_by("-review__created_at").values_list("label", flat=True).first()
    alerts = ReviewAlert.objects.filter(customer_id=customer_id, status=ReviewAlert.Status.OPEN).count()
    return {**agg, "last_label": last, "open_alerts": alerts}


def review_summary_texts(*, product_ids: list[int] | None = None) -> dict[int, str]:
    """product id -> its stored review summary paragraph (templates' product.review_summary)."""
    rows = ReviewSummary.objects.all() if product_ids is None else ReviewSummary.objects.filter(product_id__in=product_ids)
    return dict(rows.values_list("product_id", "text"))


def product_review_summary_detail(*, product_id: int, reviews_per_claim: int = 3) -> dict | None:
    """The product's summary with each claim's supporting reviews (the first few quoted), or None."""
    summary = ReviewSummary.objects.filter(product_id=product_id).first()
    if summary is None:
        return None
    wanted = {c["quote_review_id"] for c in summary.claims} | {i for c in summary.claims for i in c["review_ids"][:reviews_per_claim]}
    found = {r["id"]: r for r in Review.objects.filter(pk__in=wanted).values("id", "rating", "title", "text")}
    claims = []
    for claim in summary.claims:
        ids = [claim["quote_review_id"]] + [i for i in claim["review_ids"] if i != claim["quote_review_id"]][: reviews_per_claim - 1]
        claims.append({**claim, "support": len(claim["review_ids"]), "reviews": [found[i] for i in ids if i in found]})
    return {"text": summary.text, "review_count": summary.review_count, "method": summary.method, "computed_at": summary.computed_at, "claims": claims}
