"""Feature snapshots: one run row per snapshot date plus one wide row of values per customer."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from mlcore.ml.features import STORED_FEATURES

# Stored feature columns, in order: every feature of mlcore.ml.features.FEATURES (one definition each).
FEATURE_COLUMNS = tuple(STORED_FEATURES)


class FeatureSnapshot(models.Model):
    """Features of every customer as they were at `snapshot_at` (nothing later was used)."""

    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    snapshot_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BUILDING)
    definition = models.CharField(max_length=80, blank=True, help_text="FeatureConfig.key: what the columns depend on besides the data")
    feature_names = models.JSONField(default=list, blank=True)
    customer_count = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    build_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-snapshot_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot_at", "definition"], condition=Q(status="ready"), name="featuresnapshot_one_ready_per_date"),
        ]

    def __str__(self) -> str:
        return f"Features at {self.snapshot_at:%Y-%m-%d %H:%M} ({self.status}, {self.customer_count} customers)"


class CustomerFeatures(models.Model):
    """One customer's feature values in one snapshot (one wide float column per FEATURE_COLUMNS name: fast bulk COPY).

    The foreign keys carry no database constraint: checking a million deferred constraints at
    commit cost ~8 s per key on PostgreSQL (bench/segments.py). Rows are written only by
    mlcore.features.services in the snapshot's own transaction; deleting a customer or a
    snapshot through Django still cascades (Django collects the rows itself).
    """

    snapshot = models.ForeignKey(FeatureSnapshot, on_delete=models.CASCADE, related_name="values", db_index=False, db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    class Meta:
        verbose_name_plural = "customer features"
        constraints = [models.UniqueConstraint(fields=["snapshot", "customer"], name="customerfeatures_unique_per_snapshot")]

    def __str__(self) -> str:
        return f"features of {self.customer_id} in snapshot {self.snapshot_id}"


for _name in FEATURE_COLUMNS:  # one float column per feature, named and ordered as mlcore.ml.features defines them
    CustomerFeatures.add_to_class(_name, models.FloatField(null=True))
