"""Review intelligence tables: a sentiment per review, its aspects, and staff alerts."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from customers.models import Product


class ReviewSentiment(models.Model):
    """The current sentiment of one review and what produced it (a model version or the fallback)."""

    class Label(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

    class Method(models.TextChoices):
        MODEL = "model", "Trained model"
        FALLBACK = "fallback", "Zero-shot fallback"

    review = models.OneToOneField("customers.Review", on_delete=models.CASCADE, related_name="sentiment")
    language = models.CharField(max_length=8, db_index=True)
    score = models.FloatField(help_text="-1 (negative) .. +1 (positive): 2 * P(positive) - 1.")
    label = models.CharField(max_length=8, choices=Label.choices, db_index=True)
    method = models.CharField(max_length=8, choices=Method.choices)
    model_version = models.ForeignKey("mlcore.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="review_sentiments")
    scored_at = models.DateTimeField()

    class Meta:
        ordering = ["-scored_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=-1, score__lte=1), name="reviewsentiment_score_range"),
            models.CheckConstraint(
                condition=models.Q(method="fallback", model_version__isnull=True) | models.Q(method="model", model_version__isnull=False),
                name="reviewsentiment_method_matches_version",
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.review_id}: {self.label} ({self.score:+.2f}, {self.method})"


class ReviewAspect(models.Model):
    """An aspect a review talks about (fit, size, quality, ...) and the sentiment of those sentences."""

    review = models.ForeignKey("customers.Review", on_delete=models.CASCADE, related_name="aspects")
    aspect = models.CharField(max_length=20, db_index=True)
    score = models.FloatField()
    label = models.CharField(max_length=8, choices=ReviewSentiment.Label.choices)

    class Meta:
        ordering = ["review_id", "aspect"]
        constraints = [models.UniqueConstraint(fields=["review", "aspect"], name="reviewaspect_unique_review_aspect")]

    def __str__(self) -> str:
        return f"review {self.review_id} {self.aspect}: {self.label}"


class ReviewAlert(models.Model):
    """A negative review by a high-value customer, for staff to follow up; raised once per review."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    review = models.OneToOneField("customers.Review", on_delete=models.CASCADE, related_name="alert")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="review_alerts")
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "-created_at"]

    def __str__(self) -> str:
        return f"alert on review {self.review_id} ({self.status})"


class ProductFeedback(Product):
    """The product seen through its reviews (admin page with sentiment over time and aspects)."""

    class Meta:
        proxy = True
        verbose_name = "product feedback"
        verbose_name_plural = "product feedback"


class ReviewSummary(models.Model):
    """What customers say about a product: a checked extractive paragraph and its claims, each
    claim with the ids of the reviews that support it (mlcore.ml.feedback.summaries)."""

    product = models.OneToOneField("customers.Product", on_delete=models.CASCADE, related_name="review_summary")
    text = models.TextField()
    claims = models.JSONField(default=list, help_text="[{polarity, aspect, review_ids, quote, quote_review_id}]")
    review_count = models.PositiveIntegerField()
    method = models.CharField(max_length=40)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name_plural = "review summaries"

    def __str__(self) -> str:
        return f"summary of product {self.product_id} ({self.review_count} reviews)"
