"""Request limits per API key, per user and per anonymous client, with RateLimit-* headers.

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] ("key", "user", "anon"), which the
settings read from API_KEY_RATE_LIMIT, API_RATE_LIMIT and API_ANON_RATE_LIMIT. They are read
on every request, not frozen at import as DRF's own classes do, so a changed setting applies.
Each throttle that applies leaves its counts on the request; the middleware writes the
tightest as `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds).
A refused request gets 429 with `Retry-After` (DRF).
"""
from __future__ import annotations

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from customers.models import ApiKey

_ATTR = "_clm_ratelimit"


class _HeaderThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        allowed = super().allow_request(request, view)
        if self.rate is not None and getattr(self, "key", None) is not None and hasattr(self, "history"):
            self._record(request)
        return allowed

    def _record(self, request) -> None:
        remaining = max(self.num_requests - len(self.history), 0)
        oldest = self.history[-1] if self.history else self.now
        reset = max(math.ceil(oldest + self.duration - self.now), 0)
        django_request = getattr(request, "_request", request)
        current = getattr(django_request, _ATTR, None)
        if current is None or remaining < current[1]:
            setattr(django_request, _ATTR, (self.num_requests, remaining, reset))


class KeyRateThrottle(_HeaderThrottle):
    scope = "key"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(_HeaderThrottle):
    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey) or not request.user or getattr(request.user, "pk", None) is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(_HeaderThrottle):
    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RateLimitHeadersMiddleware:
    """Copies the tightest throttle's counts into the response headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        counts = getattr(request, _ATTR, None)
        if counts is not None:
            response["RateLimit-Limit"], response["RateLimit-Remaining"], response["RateLimit-Reset"] = (str(c) for c in counts)
        return response
