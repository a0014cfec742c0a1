"""The Job row: the life and progress of long work (imports, training, scoring, sending)."""
from __future__ import annotations

from django.db import models
from django.db.models import Q


class Job(models.Model):
    """Progress of a long piece of work (import, training, scoring, sending) shown in the admin."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=60, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    exclusive = models.BooleanField(default=False, help_text="At most one queued or running job of this kind.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the worker running it.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "mlcore_job"  # the table mlcore made before the runner moved below the apps
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status"], name="job_kind_status")]
        constraints = [
            # "Run now" twice, from two tabs at once: the second insert fails instead of racing
            models.UniqueConstraint(fields=["kind"], condition=Q(exclusive=True, status__in=["queued", "running"]), name="job_one_open_exclusive_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def percent(self) -> float | None:
        if not self.total:
            return None
        return round(100.0 * self.done / self.total, 1)
