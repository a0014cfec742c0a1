"""Scoped API keys: creating, revoking and checking them, and the DRF authentication class.

A key reads `<prefix>.<secret>`; it is sent as `Authorization: Bearer <prefix>.<secret>`
(or `Api-Key <prefix>.<secret>`). The prefix finds the row, the secret is compared with its
stored SHA-256 in constant time. Secrets are 256 random bits, so a fast hash is enough (a
password hasher's stretching buys nothing against a guess space of 2**256).

A checked key is kept in the Django cache for API_KEY_CACHE_SECONDS (one query less a request);
revoking deletes that entry, so with a shared cache (Redis) a revoke applies at once, and with
the per-process local-memory cache within API_KEY_CACHE_SECONDS in the other processes.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from customers.api.scopes import Scope
from customers.models import ApiKey

KEYWORDS = (b"bearer", b"api-key")
# last_used_at is written at most this often per key, not on every request
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, name: str, scopes: list[str], expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key and its full text `<prefix>.<secret>`, which is never stored and shown once."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ValueError(f"Unknown scopes {unknown}; known: {Scope.values}.")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=prefix, secret_hash=_hash(secret), scopes=sorted(set(scopes)), expires_at=expires_at)
    key.full_clean()
    key.save()
    return key, f"{prefix}.{secret}"


def api_key_revoke(*, key_ids: list[int]) -> int:
    """Revoke keys (for good); returns how many were still live."""
    prefixes = list(ApiKey.objects.filter(pk__in=key_ids).values_list("prefix", flat=True))
    count = ApiKey.objects.filter(pk__in=key_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())
    cache.delete_many([_cache_key(p) for p in prefixes])
    return count


def _cache_key(prefix: str) -> str:
    return f"clm:apikey:{prefix}"


def _usable_key(prefix: str) -> ApiKey | None:
    seconds = settings.API_KEY_CACHE_SECONDS
    key = cache.get(_cache_key(prefix)) if seconds else None
    if key is None:
        key = ApiKey.objects.usable().filter(prefix=prefix).first()
        if key is not None and seconds:
            cache.set(_cache_key(prefix), key, seconds)
    return key if key is not None and key.is_usable else None


def api_key_mark_used(*, key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
        if settings.API_KEY_CACHE_SECONDS:
            cache.set(_cache_key(key.prefix), key, settings.API_KEY_CACHE_SECONDS)


def api_key_check(*, presented: str) -> ApiKey | None:
    """The usable key whose prefix and secret match `presented`, else None."""
    prefix, _, secret = presented.partition(".")
    if not prefix or not secret:
        return None
    key = _usable_key(prefix)
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    return key


class KeyUser:
    """request.user of a key-authenticated request: authenticated, never staff, no account."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, key: ApiKey):
        self.key = key
        self.username = f"api-key:{key.prefix}"

    def __str__(self) -> str:
        return self.username


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <prefix>.<secret>` or `Api-Key <prefix>.<secret>`."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the key as 'Bearer <prefix>.<secret>'.")
        key = api_key_check(presented=parts[1].decode("latin-1"))
        if key is None:
            raise AuthenticationFailed("Unknown, revoked or expired API key.")
        api_key_mark_used(key=key)
        return KeyUser(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiKeySchema(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "<prefix>.<secret>"}
