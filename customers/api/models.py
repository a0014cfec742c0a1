"""Tables of the partner API: scoped API keys and stored responses of idempotent POSTs.

Imported into customers.models so that Django registers them in the customers app.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.api.scopes import Scope


class ApiKeyQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiKey(models.Model):
    """A partner's key `<prefix>.<secret>`: only the SHA-256 of the secret is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False, help_text="Shown in lists; the part before the dot.")
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, blank=True, help_text=f"Any of: {', '.join(Scope.values)}.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class IdempotencyRecord(models.Model):
    """The response a POST with an Idempotency-Key got, replayed to a repeat within 24 hours."""

    credential = models.CharField(max_length=64, help_text="SHA-256 of the credential that sent it.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path, query and body.")
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["credential", "key"], name="idempotency_credential_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.key} -> {self.status_code}"
