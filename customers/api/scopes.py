"""The API's scopes and the permission that checks them (the REST_FRAMEWORK default).

Each view names what it needs in `required_scopes`: one scope for every method, or a dict
{"GET": ..., "POST": ...}; a method missing from the dict is refused to API keys. HEAD and
OPTIONS need what GET needs. Staff users (session or token) pass every scope, an API key
passes only its own scopes, a non-staff user's token passes none (see docs/api.md).
"""
from __future__ import annotations

from django.db import models
from rest_framework.permissions import BasePermission


class Scope(models.TextChoices):
    READ_CUSTOMERS = "read:customers", "Read customers (emails and names masked)"
    READ_PII = "read:pii", "Read emails and names unmasked"
    READ_ORDERS = "read:orders", "Read orders and products"
    READ_SCORES = "read:scores", "Read scores, at-risk, model versions, jobs"
    READ_SEGMENTS = "read:segments", "Read segments and segmentation runs"
    READ_RECOMMENDATIONS = "read:recommendations", "Read recommendations and similar products"
    READ_REVIEWS = "read:reviews", "Read reviews and their sentiment, score texts"
    WRITE_EVENTS = "write:events", "Import browsing events"
    WRITE_IMPORTS = "write:imports", "Import customers, products, orders, reviews; read import reports"
    WRITE_CAMPAIGNS = "write:campaigns", "Create campaigns and change their state"
    READ_CAMPAIGNS = "read:campaigns", "Read campaigns, reports and audience criteria"
    WRITE_PRIVACY = "write:privacy", "Export and erase a customer's data"
    WRITE_WEBHOOKS = "write:webhooks", "Manage webhook subscriptions"


_AS_GET = {"HEAD", "OPTIONS"}


def scope_for(view, method: str) -> str | None:
    """The scope `view` requires for `method`, or None when it declares none for it."""
    required = getattr(view, "required_scopes", None)
    if isinstance(required, dict):
        return required.get("GET" if method in _AS_GET else method)
    return required


def credential_scopes(request) -> frozenset[str] | None:
    """The scopes the request's credential holds; None means all of them (staff)."""
    from customers.models import ApiKey  # the models module imports this one for its choices

    if isinstance(request.auth, ApiKey):
        return frozenset(request.auth.scopes)
    user = request.user
    if user is not None and user.is_authenticated and user.is_staff:
        return None
    return frozenset()


def has_scope(request, scope: str) -> bool:
    held = credential_scopes(request)
    return held is None or scope in held


class HasRequiredScope(BasePermission):
    """Authenticated, and the credential holds the scope the view requires for this method."""

    message = "This credential lacks the scope this route requires."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        held = credential_scopes(request)
        if held is None or not hasattr(view, request.method.lower()):
            return True  # staff; or a method the view lacks, which DRF then answers 405
        needed = scope_for(view, request.method)
        if needed is None:
            return False
        if needed not in held:
            self.message = f"This credential lacks the scope '{needed}' this route requires."
            return False
        return True
