"""Privacy: GDPR export and erasure requests (each a job row) and the audit log of PII reads."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class PrivacyRequest(models.Model):
    """One export or erasure of one customer, run as a job; the result says what it held or removed."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export (GDPR access)"
        ERASE = "erase", "Erasure (GDPR right to be forgotten)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=6, choices=Kind.choices)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="privacy_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    requested_by = models.CharField(max_length=200, help_text='Who asked: "user:<name>" or "key:<prefix>".')
    file_name = models.CharField(max_length=300, blank=True, help_text="The export's JSON file in the privacy storage.")
    result = models.JSONField(default=dict, blank=True, help_text="Export: rows per section. Erasure: rows removed per table, models to retrain.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of customer {self.customer_id} ({self.status})"


class PiiAccess(models.Model):
    """Who saw personal data: one row per request that showed PII, export or erasure."""

    class Action(models.TextChoices):
        READ = "read", "Read"
        EXPORT = "export", "Export"
        ERASE = "erase", "Erasure"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=6, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_key = models.CharField(max_length=100, blank=True, help_text="The API key's prefix or name, when a key was used.")
    actor = models.CharField(max_length=200, help_text='"user:<name>", "key:<prefix>" or "system".')
    method = models.CharField(max_length=8, blank=True)
    route = models.CharField(max_length=500)
    customer_count = models.PositiveIntegerField(default=0)
    customer_ids = models.JSONField(default=list, blank=True, help_text="Ids of the customers shown (at most 1,000 per row).")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "PII access"
        verbose_name_plural = "PII access log"

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.route} ({self.customer_count}) at {self.at:%Y-%m-%d %H:%M}"
