"""Idempotent POSTs: `Idempotency-Key` replays the first response to a repeat within 24 hours.

The middleware keys the stored response on (credential, key): the credential is the SHA-256
of the Authorization header, or of the session's user id, so two partners may use the same
key. A repeat with the same method, path, query and body gets the stored status and body
(with `Idempotent-Replayed: true`); the same key with anything else gets 422. Requests with
no credential are not stored; nor are 5xx answers or 401/403/429 ones (a retry may succeed).
Concurrent first requests with one key: the first to store wins, the other's answer stands.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from customers.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
NOT_STORED = {401, 403, 429}


def _credential(request) -> str | None:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth:
        return hashlib.sha256(auth.encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return hashlib.sha256(f"session:{user.pk}".encode()).hexdigest()
    return None


def _fingerprint(request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path} {request.META.get('QUERY_STRING', '')}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotency_lookup(*, credential: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(credential=credential, key=key, created_at__gte=timezone.now() - TTL).first()


def idempotency_store(*, credential: str, key: str, fingerprint: str, response) -> None:
    """Store a response; an expired record with the same key is replaced."""
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.filter(credential=credential, key=key, created_at__lt=timezone.now() - TTL).delete()
            IdempotencyRecord.objects.create(
                credential=credential, key=key, fingerprint=fingerprint, status_code=response.status_code,
                content_type=response.get("Content-Type", ""), body=bytes(response.content),
            )
    except IntegrityError:
        pass  # a concurrent first request with this key stored first


def idempotency_purge() -> int:
    """Delete records older than 24 hours (run from a periodic task or by hand)."""
    return IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()[0]


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER, "").strip()
        if request.method != "POST" or not key or not request.path.startswith("/api/"):
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            return JsonResponse({"detail": f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters."}, status=400)
        credential = _credential(request)
        if credential is None:
            return self.get_response(request)
        fingerprint = _fingerprint(request)
        stored = idempotency_lookup(credential=credential, key=key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                return JsonResponse({"detail": "This Idempotency-Key was used with another request; use a new key."}, status=422)
            replay = HttpResponse(bytes(stored.body), status=stored.status_code, content_type=stored.content_type or None)
            replay["Idempotent-Replayed"] = "true"
            return replay
        response = self.get_response(request)
        if response.status_code < 500 and response.status_code not in NOT_STORED and not getattr(response, "streaming", False):
            idempotency_store(credential=credential, key=key, fingerprint=fingerprint, response=response)
        return response
