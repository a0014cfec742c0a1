"""Hooks that put PII reads into the audit log: a serializer mixin marks the customers whose PII a
response shows, and PiiAccessMiddleware writes one PiiAccess row per such request (not per row).

Use: `class CustomerSerializer(PiiReadSerializerMixin, serializers.ModelSerializer)`; a masked
value (one that differs from the stored one) is not a read. Any other entrypoint may call
customers.privacy.services.pii_read_mark(request, ids) itself.
"""
from __future__ import annotations

from customers.privacy.services import pii_read_flush, pii_read_mark


class PiiReadSerializerMixin:
    pii_fields: tuple[str, ...] = ("email", "name")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and any(data.get(f) and data.get(f) == getattr(instance, f, None) for f in self.pii_fields):
            pii_read_mark(request, [instance.pk])
        return data


class PiiAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        pii_read_flush(request, response)
        return response
