"""Request limits per API key, per user and per anonymous client, with RateLimit-* headers.

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] ("key", "user", "anon"), which the
settings read from API_KEY_RATE_LIMIT, API_RATE_LIMIT and API_ANON_RATE_LIMIT, and are read on
every request (not frozen at import as DRF's own classes do), so a changed setting applies.

Fixed windows counted with one cache increment a request: DRF's SimpleRateThrottle keeps a
log of every request time in the window and rewrites it each request, which at 10000/hour is
a list of up to 10,000 floats read and written per call. The cost of the window: a client
may spend its limit at the end of one window and again at the start of the next.
Each throttle that applies leaves its counts on the request; the middleware writes the
tightest as `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds to the
window's end). A refused request gets 429 with `Retry-After` (DRF, from `wait()`).
"""
from __future__ import annotations

import math
import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from customers.models import ApiKey

_ATTR = "_clm_ratelimit"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """The (requests, seconds) of a rate such as "100/hour"."""
    num, period = rate.split("/")
    return int(num), _PERIODS[period[0]]


class _WindowThrottle(BaseThrottle):
    scope = ""

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        ident = self.ident(request) if rate else None
        if ident is None:
            return True
        limit, duration = parse_rate(rate)
        now = time.time()
        window = int(now // duration)
        key = f"clm:throttle:{self.scope}:{ident}:{duration}:{window}"
        cache.add(key, 0, duration + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, duration + 1)
            count = 1
        self.reset = max(math.ceil((window + 1) * duration - now), 1)
        _record(request, limit, max(limit - count, 0), self.reset)
        return count <= limit

    def wait(self) -> float:
        return self.reset


def _record(request, limit: int, remaining: int, reset: int) -> None:
    django_request = getattr(request, "_request", request)
    current = getattr(django_request, _ATTR, None)
    if current is None or remaining < current[1]:
        setattr(django_request, _ATTR, (limit, remaining, reset))


class KeyRateThrottle(_WindowThrottle):
    scope = "key"

    def ident(self, request) -> str | None:
        return str(request.auth.pk) if isinstance(request.auth, ApiKey) else None


class UserRateThrottle(_WindowThrottle):
    scope = "user"

    def ident(self, request) -> str | None:
        if isinstance(request.auth, ApiKey) or not request.user or getattr(request.user, "pk", None) is None:
            return None
        return str(request.user.pk)


class AnonRateThrottle(_WindowThrottle):
    scope = "anon"

    def ident(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


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
