"""Segmentation runs, their named segments, each customer's membership, and run-to-run moves."""
from __future__ import annotations

from django.db import models
from django.db.models import Q


class SegmentationRunQuerySet(models.QuerySet):
    def ready(self):
        return self.filter(status=SegmentationRun.Status.READY)

    def latest_first(self):
        return self.order_by("-snapshot_at", "-id")


class SegmentationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Method(models.TextChoices):
        KMEANS = "kmeans", "K-means on RFM features"

    method = models.CharField(max_length=20, choices=Method.choices, default=Method.KMEANS)
    snapshot_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    feature_snapshot = models.ForeignKey("mlcore.FeatureSnapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model_version = models.ForeignKey("mlcore.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    previous_run = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    k = models.PositiveSmallIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    silhouette = models.FloatField(null=True, blank=True)
    davies_bouldin = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SegmentationRunQuerySet.as_manager()

    class Meta:
        ordering = ["-snapshot_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["method", "snapshot_at"], condition=Q(status="ready"), name="segmentationrun_one_ready_per_date"),
        ]

    def __str__(self) -> str:
        return f"Segmentation {self.snapshot_at:%Y-%m-%d} ({self.k} segments, {self.status})"


class Segment(models.Model):
    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="segments")
    key = models.SlugField(max_length=60, help_text="Stable between runs: matched by centroid to the previous run.")
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Cluster index in the fitted model.")
    size = models.PositiveIntegerField(default=0)
    revenue_share = models.FloatField(default=0.0)
    profile = models.JSONField(default=dict, blank=True, help_text="Median recency, frequency, spend, order value, tenure.")
    centroid = models.JSONField(default=dict, blank=True, help_text="Cluster centre in log1p feature units.")

    class Meta:
        ordering = ["run", "-size"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="segment_unique_key_per_run")]

    def __str__(self) -> str:
        return f"{self.name} ({self.size})"


class SegmentMembership(models.Model):
    """A customer's segment in one run. Keys without database constraints, for the same reason
    and with the same guarantees as CustomerFeatures (written only by mlcore.segments.services)."""

    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="memberships", db_index=False, db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="segmentmembership_one_per_run")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"


class SegmentTransition(models.Model):
    """How many customers moved from a segment of the previous run to one of this run."""

    run = models.ForeignKey(SegmentationRun, on_delete=models.CASCADE, related_name="transitions")
    from_segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text="Empty: not segmented in the previous run (new customer).")
    to_segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["run", "from_segment", "to_segment"]

    def __str__(self) -> str:
        return f"{self.from_segment_id} -> {self.to_segment_id}: {self.count}"
