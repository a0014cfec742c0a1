"""Campaigns: audiences, templates, deliveries, tracking and results."""
from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


def _new_seed() -> int:
    return secrets.randbelow(2**31)


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "Sent"
        PARTIAL = "partial", "Sent with failures"
        FAILED = "failed", "Failed"
        EMPTY = "empty", "Finished, nobody to send to"
        CANCELLED = "cancelled", "Cancelled"

    class WaveMetric(models.TextChoices):
        CLICKS = "clicks", "Clicks"
        CONVERSIONS = "conversions", "Attributed conversions"

    class Recurrence(models.TextChoices):
        NONE = "", "One-off"
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every week"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, help_text="The landing page is at /c/ followed by the slug (for example /c/spring-sale/)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    audience_rules = models.JSONField(default=list, blank=True, help_text='List of {"key": ..., "params": {...}}; email consent is always required.')
    holdout_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.100"), validators=[MinValueValidator(0), MaxValueValidator(Decimal("0.9"))])
    seed = models.PositiveIntegerField(default=_new_seed, help_text="Seeds the variant/holdout assignment (reproducible).")
    send_at = models.DateTimeField(null=True, blank=True, help_text="In the shop's timezone.")
    recurrence = models.CharField(max_length=8, choices=Recurrence.choices, default=Recurrence.NONE, blank=True)
    recurrence_weekday = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(6)], help_text="0 = Monday (weekly only).")
    recurrence_time = models.TimeField(null=True, blank=True, help_text="Local time of day of each run.")
    only_new_entrants = models.BooleanField(default=True, help_text="Recurring: skip customers an earlier run already selected.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    throttle_per_minute = models.PositiveIntegerField(default=0, help_text="Messages per minute; 0 = as fast as the workers go.")
    conversion_window_days = models.PositiveSmallIntegerField(default=7, validators=[MinValueValidator(1)])
    discount_prefix = models.CharField(max_length=20, blank=True, help_text="If set, each customer gets a code PREFIX-XXXXXXXX.")
    offer_text = models.CharField(max_length=300, blank=True)
    recommendations_count = models.PositiveSmallIntegerField(default=4, validators=[MaxValueValidator(20)])
    from_email = models.EmailField(blank=True)
    landing_html = models.TextField(blank=True, help_text="Django template of the landing page /c/<slug>/.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_batch_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    job_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="mlcore Job row of the sending progress.")
    wave_count = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(20)], help_text="1 = everyone at once; more: send in waves, CAMPAIGN_WAVE_GAP_SECONDS apart.")
    first_wave_percent = models.PositiveSmallIntegerField(default=20, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Share of the recipients in the first wave; the other waves split the rest.")
    wave_adaptive = models.BooleanField(default=True, help_text="Waves after the first follow Thompson sampling toward the better variant.")
    wave_metric = models.CharField(max_length=11, choices=WaveMetric.choices, default=WaveMetric.CLICKS)
    wave_min_sample = models.PositiveIntegerField(default=100, help_text="Recipients every variant needs before any shift.")
    bandit_seed = models.PositiveIntegerField(default=_new_seed, help_text="Seeds the Thompson draws (a rerun allocates the same way).")
    next_wave_at = models.DateTimeField(null=True, blank=True, help_text="Set between waves: when the next one goes.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "send_at"], name="campaign_status_send_at")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_recurring(self) -> bool:
        return bool(self.recurrence)


class Variant(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=20, default="A")
    share = models.PositiveSmallIntegerField(default=100, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Relative weight among variants.")
    subject = models.CharField(max_length=300, help_text="Django template.")
    html_body = models.TextField(help_text="Django template (HTML).")
    text_body = models.TextField(help_text="Django template (plain text).")

    class Meta:
        ordering = ["campaign_id", "name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="variant_unique_name")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.name}"


class DeliveryQuerySet(models.QuerySet):
    def recipients(self):
        return self.filter(is_holdout=False)


class Delivery(models.Model):
    """The ledger: one row per campaign and customer, frozen when sending starts."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending (claimed)"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"
        HOLDOUT = "holdout", "Holdout (not sent)"
        WAITING = "waiting", "Waiting for its wave"
        CANCELLED = "cancelled", "Cancelled"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="campaign_deliveries")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries")
    is_holdout = models.BooleanField(default=False)
    wave = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Wave number of a campaign sent in waves (1 = first).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    email = models.EmailField(blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    smtp_started_at = models.DateTimeField(null=True, blank=True, help_text="Set just before the SMTP hand-over.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    message_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True, help_text="Last click.")
    open_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["campaign_id", "id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="delivery_unique_campaign_customer"),
            # a later wave's rows get their variant when the wave goes (or never, if the campaign is cancelled first)
            models.CheckConstraint(condition=Q(is_holdout=True) | Q(variant__isnull=False) | Q(wave__gt=1, status__in=["waiting", "cancelled"]), name="delivery_variant_unless_holdout_or_waiting"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="delivery_campaign_status"),
            models.Index(fields=["customer", "clicked_at"], name="delivery_customer_clicked"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}->{self.customer_id} {self.status}"


class WaveAllocation(models.Model):
    """How one wave of a campaign was split among its variants, and why (written once per wave)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="wave_allocations")
    wave = models.PositiveSmallIntegerField()
    size = models.PositiveIntegerField()
    counts = models.JSONField(default=dict, help_text='{"A": customers, ...}')
    shares = models.JSONField(default=dict)
    adaptive = models.BooleanField(default=False, help_text="False: an even split.")
    reason = models.CharField(max_length=200)
    evidence = models.JSONField(default=dict, help_text='Before the wave: {"A": {"trials", "successes", "prob_best"}, ...}')
    dispatched_at = models.DateTimeField()

    class Meta:
        ordering = ["campaign_id", "wave"]
        constraints = [models.UniqueConstraint(fields=["campaign", "wave"], name="waveallocation_one_per_wave")]

    def __str__(self) -> str:
        return f"{self.campaign_id} wave {self.wave}"


class DeliveryEvent(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        CLICK = "click", "Click"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    url = models.URLField(max_length=1000, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.delivery_id}"


class Conversion(models.Model):
    """An order attributed to the last clicked campaign delivery within its window."""

    order = models.OneToOneField("customers.Order", on_delete=models.CASCADE, related_name="campaign_conversion")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="conversions")
    revenue = models.DecimalField(max_digits=14, decimal_places=2)
    placed_at = models.DateTimeField()
    attributed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return f"order {self.order_id} -> delivery {self.delivery_id}"


class Suppression(models.Model):
    """Addresses never mailed again (hard bounce, complaint, unsubscribe), checked at send time."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Complaint"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


# The support assistant area keeps its tables in its own module (campaigns/assistant/models.py).
from campaigns.assistant.models import (  # noqa: E402,F401
    ChatMessage,
    Conversation,
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeChunk,
    Ticket,
)
from campaigns.copywriting.models import BrandVoice, CopyDraft  # noqa: E402,F401
