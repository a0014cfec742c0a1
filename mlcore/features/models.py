"""Feature snapshots: one run row per snapshot date plus one wide row of values per customer."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

# Stored feature columns, in order (mlcore.ml.features names them; event kinds are summed).
FEATURE_COLUMNS = (
    "recency_days", "tenure_days", "frequency", "monetary", "avg_order_value",
    "interpurchase_mean_days", "interpurchase_std_days", "return_rate",
    "distinct_products", "distinct_categories",
    "orders_last_90", "orders_prev_90", "spend_last_90", "spend_prev_90", "activity_trend",
    "review_count", "review_rating_mean", "review_sentiment_mean", "event_count",
)


class FeatureSnapshot(models.Model):
    """Features of every customer as they were at `snapshot_at` (nothing later was used)."""

    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    snapshot_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BUILDING)
    feature_names = models.JSONField(default=list, blank=True)
    customer_count = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    build_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-snapshot_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot_at"], condition=Q(status="ready"), name="featuresnapshot_one_ready_per_date"),
        ]

    def __str__(self) -> str:
        return f"Features at {self.snapshot_at:%Y-%m-%d %H:%M} ({self.status}, {self.customer_count} customers)"


class CustomerFeatures(models.Model):
    """One customer's feature values in one snapshot (wide float columns: fast bulk COPY).

    The foreign keys carry no database constraint: checking a million deferred constraints at
    commit cost ~8 s per key on PostgreSQL (bench/segments.py). Rows are written only by
    mlcore.features.services in the snapshot's own transaction; deleting a customer or a
    snapshot through Django still cascades (Django collects the rows itself).
    """

    snapshot = models.ForeignKey(FeatureSnapshot, on_delete=models.CASCADE, related_name="values", db_index=False, db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    recency_days = models.FloatField(null=True)
    tenure_days = models.FloatField(null=True)
    frequency = models.FloatField(null=True)
    monetary = models.FloatField(null=True)
    avg_order_value = models.FloatField(null=True)
    interpurchase_mean_days = models.FloatField(null=True)
    interpurchase_std_days = models.FloatField(null=True)
    return_rate = models.FloatField(null=True)
    distinct_products = models.FloatField(null=True)
    distinct_categories = models.FloatField(null=True)
    orders_last_90 = models.FloatField(null=True)
    orders_prev_90 = models.FloatField(null=True)
    spend_last_90 = models.FloatField(null=True)
    spend_prev_90 = models.FloatField(null=True)
    activity_trend = models.FloatField(null=True)
    review_count = models.FloatField(null=True)
    review_rating_mean = models.FloatField(null=True)
    review_sentiment_mean = models.FloatField(null=True)
    event_count = models.FloatField(null=True)

    class Meta:
        verbose_name_plural = "customer features"
        constraints = [models.UniqueConstraint(fields=["snapshot", "customer"], name="customerfeatures_unique_per_snapshot")]

    def __str__(self) -> str:
        return f"features of {self.customer_id} in snapshot {self.snapshot_id}"
