"""Tables of drafted copy: the brand voice (one row, edited in the admin) and the drafts."""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class BrandVoice(models.Model):
    """The rules every draft is checked against. One row (pk 1): the shop has one voice."""

    tone = models.CharField(max_length=200, default="warm, plain and brief")
    banned_words = models.TextField(blank=True, help_text="One word or short phrase a line; never used in copy.")
    banned_claims = models.TextField(blank=True, help_text="One claim a line (e.g. 'lowest price', 'guaranteed'); never made.")
    max_discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=10, validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="The largest percentage off a draft may mention.",
    )
    subject_max_chars = models.PositiveSmallIntegerField(default=80, validators=[MinValueValidator(10)])
    body_max_chars = models.PositiveSmallIntegerField(default=600, validators=[MinValueValidator(40)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="brandvoice_single_row")]

    def __str__(self) -> str:
        return f"Brand voice ({self.tone})"

    @staticmethod
    def lines(value: str) -> tuple[str, ...]:
        return tuple(line.strip() for line in value.splitlines() if line.strip())


class CopyDraft(models.Model):
    class Kind(models.TextChoices):
        SUBJECT = "subject", "Subject line"
        BODY = "body", "Body text"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed (passed the guardrails)"
        REFUSED = "refused", "Refused by a guardrail"
        APPROVED = "approved", "Approved into a variant"

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="copy_drafts")
    kind = models.CharField(max_length=7, choices=Kind.choices)
    text = models.TextField()
    model_name = models.CharField(max_length=200)
    prompt_version = models.CharField(max_length=40)
    status = models.CharField(max_length=8, choices=Status.choices, db_index=True)
    refusal_reasons = models.JSONField(default=list, blank=True)
    variant = models.ForeignKey("campaigns.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "status"], name="copydraft_campaign_status")]

    def __str__(self) -> str:
        return f"{self.kind} draft {self.pk} ({self.status})"
