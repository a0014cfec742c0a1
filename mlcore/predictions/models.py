"""Stored predictions: one score row per customer and churn model version, and drift reports."""
from __future__ import annotations

from django.db import models

from customers.models import Customer
from mlcore.registry.models import ModelVersion


class CustomerScore(models.Model):
    """Churn risk, purchase probability and value of a customer, from one churn model version.

    The BG/NBD and Gamma-Gamma versions that gave the purchase and value figures are kept too.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="scores")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="customer_scores")
    bgnbd_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    gamma_gamma_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    churn_probability = models.FloatField()
    probability_active = models.FloatField(null=True, blank=True)
    expected_purchases_30 = models.FloatField(null=True, blank=True)
    expected_purchases_90 = models.FloatField(null=True, blank=True)
    expected_purchases_365 = models.FloatField(null=True, blank=True)
    expected_value_12m = models.FloatField(null=True, blank=True)
    # 90% bootstrap interval of the model's 12-month value (small shops only, see docs/models.md)
    expected_value_12m_low = models.FloatField(null=True, blank=True)
    expected_value_12m_high = models.FloatField(null=True, blank=True)
    value_reason = models.CharField(max_length=200, blank=True, help_text="How the 12-month value was reached, in the customer's figures.")
    reason = models.CharField(max_length=400, blank=True)
    scored_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-scored_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["model_version", "customer"], name="customerscore_one_per_version")]
        indexes = [
            models.Index(fields=["model_version", "churn_probability"], name="score_version_churn"),
            models.Index(fields=["model_version", "expected_value_12m"], name="score_version_value"),
            models.Index(fields=["customer", "scored_at"], name="score_customer_scored"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: churn {self.churn_probability:.2f} (v{self.model_version_id})"


class DriftReport(models.Model):
    """Population stability index per feature between a model's training snapshot and today's."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="drift_reports")
    computed_at = models.DateTimeField()
    snapshot_at = models.DateTimeField()
    rows = models.JSONField(default=list, help_text='[{"feature", "psi", "warning"}, ...]')
    max_psi = models.FloatField()

    class Meta:
        ordering = ["-computed_at", "-id"]

    def __str__(self) -> str:
        return f"drift of v{self.model_version_id} at {self.computed_at:%Y-%m-%d}: max PSI {self.max_psi:.3f}"


class CustomerUplift(models.Model):
    """A customer's expected uplift of a campaign mail (conversion probability if mailed minus
    if not, within the training campaigns' window), from one uplift model version."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="uplift_scores")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="uplift_scores")
    uplift = models.FloatField()
    scored_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-scored_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["model_version", "customer"], name="customeruplift_one_per_version")]
        indexes = [models.Index(fields=["model_version", "uplift"], name="uplift_version_value")]

    def __str__(self) -> str:
        return f"{self.customer_id}: uplift {self.uplift:+.3f} (v{self.model_version_id})"
