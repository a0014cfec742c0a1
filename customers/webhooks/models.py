"""Outbound webhooks: partner subscriptions to platform events and the log of every delivery."""
from __future__ import annotations

import uuid

from django.db import models


class WebhookEvent(models.TextChoices):
    SEGMENT_ENTERED = "segment.entered", "Customers entered a segment"
    CHURN_RISK_CROSSED = "churn_risk.crossed", "Customers crossed the at-risk threshold"
    CAMPAIGN_FINISHED = "campaign.finished", "A campaign finished"
    IMPORT_FINISHED = "import.finished", "An import batch finished"
    REVIEW_NEGATIVE = "review.negative", "Reviews were scored negative"


class WebhookSubscription(models.Model):
    """A partner URL, its signing secret and the events it receives."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, help_text="http(s) only; receives a signed POST per event.")
    secret = models.CharField(max_length=100, help_text="Shared HMAC-SHA256 key; shown to the partner once.")
    events = models.JSONField(default=list, help_text="Event names, e.g. [\"segment.entered\"].")
    is_active = models.BooleanField(default=True, help_text="Off: paused (by staff or after repeated failures).")
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} -> {self.url}{'' if self.is_active else ' (paused)'}"


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one subscription, with every attempt's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="Shared by the deliveries of one emitted event.")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices, db_index=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["subscription", "status"], name="webhookdelivery_sub_status")]

    def __str__(self) -> str:
        return f"{self.event} -> {self.subscription_id} ({self.status}, {self.attempts} attempts)"
