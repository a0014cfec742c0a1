"""The API's shared conventions, applied to every route under /api/v1/ (see docs/api.md).

- Trailing slashes: a route is written without one and answers with or without one; the
  middleware strips it before URL resolution, so no POST meets APPEND_SLASH's redirect.
- No debug page: an unknown route answers a JSON 404, an unhandled error a JSON 500.
- Query parameters: a list or detail answers 400 for a parameter none of its filter,
  ordering or pagination backends (or the view's `extra_query_params`) declares, and for an
  ordering on a field it does not allow, naming the allowed ones.
- Dates: an ISO 8601 date-time with a UTC offset outside -14:00..+14:00 (the offsets in use
  on Earth; PostgreSQL refuses some beyond them with a 500) or a year that overflows in UTC
  answers 400, not 500.
"""
from __future__ import annotations

import logging
from datetime import UTC, timedelta

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_filters import rest_framework as filters_drf
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter

logger = logging.getLogger(__name__)
API_PREFIX = "/api/v1/"
ALWAYS_ALLOWED = frozenset({"format"})
MAX_UTC_OFFSET = timedelta(hours=14)


class SafeIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        try:
            parsed = super().to_python(value)
            if parsed is not None:
                parsed.astimezone(UTC)  # overflows for years at the edge of the range
                if abs(parsed.utcoffset()) > MAX_UTC_OFFSET:
                    raise ValueError("offset")
            return parsed
        except (ValueError, OverflowError):
            raise DjangoValidationError(
                "Enter an ISO 8601 date-time within years 1-9999 with a UTC offset from -14:00 to +14:00.", code="invalid",
            ) from None


class SafeIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = SafeIsoDateTimeField


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",")]
            allowed = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
            unknown = [f for f in fields if f.lstrip("-") not in allowed]
            if unknown:
                raise ValidationError({self.ordering_param: f"Unknown ordering {unknown}; allowed: {sorted(allowed)} (prefix - for descending)."})
        return super().get_ordering(request, queryset, view)


_allowed_cache: dict[tuple, frozenset[str]] = {}


def _backend_params(backend, view, queryset) -> set[str]:
    if isinstance(backend, filters_drf.DjangoFilterBackend):
        filterset_class = backend.get_filterset_class(view, queryset)
        return set(filterset_class.base_filters) if filterset_class else set()
    if isinstance(backend, OrderingFilter):
        return {backend.ordering_param}
    return {p["name"] for p in backend.get_schema_operation_parameters(view)}


def allowed_query_params(view, queryset) -> frozenset[str]:
    """Every query parameter the view's backends, paginator and `extra_query_params` declare."""
    cache_key = (type(view), getattr(view, "action", None))
    if cache_key not in _allowed_cache:
        names = set(ALWAYS_ALLOWED) | set(getattr(view, "extra_query_params", ()))
        for backend_class in view.filter_backends:
            if backend_class is not KnownQueryParamsFilter:
                names |= _backend_params(backend_class(), view, queryset)
        if getattr(view, "paginator", None) is not None and getattr(view, "action", None) != "retrieve":
            names |= {p["name"] for p in view.paginator.get_schema_operation_parameters(view)}
        _allowed_cache[cache_key] = frozenset(names)
    return _allowed_cache[cache_key]


class KnownQueryParamsFilter(BaseFilterBackend):
    """First filter backend: refuses query parameters the view does not know."""

    def filter_queryset(self, request, queryset, view):
        allowed = allowed_query_params(view, queryset)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({"detail": f"Unknown query parameter(s) {unknown}; allowed: {sorted(allowed)}."})
        return queryset


class StrictFilterSet(filters_drf.FilterSet):
    """Base of every filter set: model date-times get the 400-not-500 filter."""

    FILTER_DEFAULTS = {
        **filters_drf.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": SafeIsoDateTimeFilter},
    }


class StrictDjangoFilterBackend(filters_drf.DjangoFilterBackend):
    """DjangoFilterBackend whose generated filter sets (`filterset_fields`) are StrictFilterSets."""

    filterset_base = StrictFilterSet


@csrf_exempt  # a POST to an unknown route is a 404, not a CSRF page
def api_not_found(request, unmatched: str = ""):
    return JsonResponse({"detail": f"No API route {request.path!r}; see /api/docs/."}, status=404)


class ApiConventionsMiddleware:
    """Strips trailing slashes under /api/v1/ and answers unhandled errors there as JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(API_PREFIX) and len(path) > len(API_PREFIX) and path.endswith("/"):
            request.path_info = path.rstrip("/") or path
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path_info.startswith(API_PREFIX):
            return None
        logger.exception("unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return JsonResponse({"detail": "Server error; it has been logged."}, status=500)
