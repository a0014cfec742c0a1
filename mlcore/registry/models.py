"""The model registry (one row per trained artefact) and the Job row of long work."""
from __future__ import annotations

from django.db import models
from django.db.models import Q


class ModelVersion(models.Model):
    """One trained artefact. Ready only once its file and hash are written; one active per kind."""

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        """Every kind of trained artefact; model_version_create refuses any other."""

        CHURN = "churn", "Churn risk"
        BGNBD = "bgnbd", "Purchase probability (BG/NBD)"
        GAMMA_GAMMA = "gamma_gamma", "Spend per order (Gamma-Gamma)"
        SEGMENTATION = "segmentation", "Customer segmentation"
        RECOMMENDER = "recommender", "Recommender"
        RANKER = "ranker", "Recommendation re-ranker"
        SENTIMENT_EN = "sentiment_en", "Review sentiment (English)"
        SENTIMENT_ZH = "sentiment_zh", "Review sentiment (Chinese)"
        ASSISTANT_INTENTS = "assistant_intents", "Support assistant intents"
        UPLIFT = "uplift", "Campaign uplift"

    kind = models.CharField(max_length=40, db_index=True, choices=Kind.choices)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    is_active = models.BooleanField(default=False)
    artefact_path = models.CharField(max_length=500, blank=True)
    artefact_sha256 = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    data_window_start = models.DateTimeField(null=True, blank=True)
    data_window_end = models.DateTimeField(null=True, blank=True)
    code_version = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    needs_retraining = models.BooleanField(default=False, db_index=True, help_text="Its training data held a customer erased since (GDPR).")
    retraining_reason = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="modelversion_unique_kind_version"),
            models.UniqueConstraint(fields=["kind"], condition=Q(is_active=True), name="modelversion_one_active_per_kind"),
            models.CheckConstraint(condition=Q(is_active=False) | Q(status="ready"), name="modelversion_active_is_ready"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version} ({self.status}{', active' if self.is_active else ''})"

    @property
    def label(self) -> str:
        """What the API calls `model_version` everywhere: kind and version, e.g. "churn:3"."""
        return version_label(self.kind, self.version)


def version_label(kind: str, version: int) -> str:
    return f"{kind}:{version}"
