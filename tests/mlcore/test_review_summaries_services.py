"""Storing what customers say about each product: the refresh service and command, the selector."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from mlcore.feedback.selectors import product_review_summary_detail, review_summary_texts
from mlcore.feedback.services.summaries import review_summaries_refresh
from mlcore.models import ReviewAspect, ReviewSummary
from tests.customers.factories import ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db

PRAISE = ["The fit is perfect on me.", "Lovely fit, very flattering.", "Great fit and it drapes well."]
CRITICISM = ["The fabric is thin and cheap.", "Poor quality stitching came undone.", "The material pilled after a week."]


def reviewed_product(extra: int = 4):
    """A product with 3 fit praises, 3 quality complaints and `extra` plain reviews, aspects stored as scoring would."""
    product = ProductFactory()
    for text in PRAISE:
        ReviewAspect.objects.create(review=ReviewFactory(product=product, text=text), aspect="fit", score=0.8, label="positive")
    for text in CRITICISM:
        ReviewAspect.objects.create(review=ReviewFactory(product=product, text=text, rating=2), aspect="quality", score=-0.7, label="negative")
    for i in range(extra):
        ReviewFactory(product=product, text=f"Arrived on day {i}, nice.")
    return product


def test_refresh_stores_a_checked_summary_per_product_with_enough_reviews():
    # given one product with 10 reviews and one with 6, when refreshed with min 10, then only the first gets a summary, claims linked to its reviews
    big, small = reviewed_product(extra=4), reviewed_product(extra=0)
    assert review_summaries_refresh(min_reviews=10)["summaries"] == 1
    summary = ReviewSummary.objects.get()
    assert summary.product_id == big.pk and summary.review_count == 10 and not ReviewSummary.objects.filter(product=small).exists()
    praise, criticism = summary.claims
    assert praise["aspect"] == "fit" and sorted(praise["review_ids"]) == sorted(big.reviews.filter(text__in=PRAISE).values_list("id", flat=True))
    assert criticism["quote"] in CRITICISM and summary.text.startswith("Of 10 reviews, 3 praise the fit")


def test_refresh_twice_keeps_one_row_and_drops_summaries_no_longer_supported():
    # given a stored summary, when refreshed again it is replaced (one row); when its aspects vanish, it is removed
    product = reviewed_product()
    review_summaries_refresh(min_reviews=10)
    call_command("summarize_reviews", "--min-reviews", "10")
    assert ReviewSummary.objects.filter(product=product).count() == 1
    ReviewAspect.objects.all().delete()
    assert review_summaries_refresh(min_reviews=10)["removed"] == 1
    assert not ReviewSummary.objects.exists()


def test_selectors_give_the_text_and_each_claims_supporting_reviews():
    # given a stored summary, when read for the page, then each claim carries its support count and the quoted review first
    product = reviewed_product()
    review_summaries_refresh(min_reviews=10)
    detail = product_review_summary_detail(product_id=product.pk)
    claim = detail["claims"][0]
    assert claim["support"] == 3 and claim["reviews"][0]["id"] == claim["quote_review_id"] and len(claim["reviews"]) == 3
    assert review_summary_texts(product_ids=[product.pk]) == {product.pk: detail["text"]}
    assert product_review_summary_detail(product_id=ProductFactory().pk) is None
    assert detail["computed_at"] <= timezone.now()
