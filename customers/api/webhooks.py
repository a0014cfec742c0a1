"""Webhook subscriptions API: partners list, create, change, pause, resume and delete their
subscriptions and read their delivery log. The signing secret is answered once, on create."""
from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.api.scopes import Scope
from customers.webhooks import services
from customers.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.values), allow_empty=False)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "events", "is_active", "consecutive_failures", "paused_reason", "created_at", "updated_at"]
        read_only_fields = ["is_active", "consecutive_failures", "paused_reason", "created_at", "updated_at"]


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(required=False, allow_blank=True, help_text="Empty: generated. Answered only here.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event", "payload", "status", "attempts", "response_code", "last_error",
                  "created_at", "last_attempt_at", "next_attempt_at", "delivered_at"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    class Meta:
        model = WebhookDelivery
        fields = ["status", "event"]


def _invalid(exc: ValidationError) -> serializers.ValidationError:
    return serializers.ValidationError({"detail": exc.messages})


class WebhookSubscriptionViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = WebhookSubscription.objects.all()
    serializer_class = WebhookSubscriptionSerializer
    required_scopes = Scope.WRITE_WEBHOOKS
    filterset_fields = ["is_active"]
    ordering_fields = ["id", "name"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        return WebhookSubscriptionCreatedSerializer if self.action == "create" else super().get_serializer_class()

    def perform_create(self, serializer):
        try:
            serializer.instance = services.webhook_subscription_create(**serializer.validated_data)
        except ValidationError as exc:
            raise _invalid(exc) from None

    def perform_update(self, serializer):
        try:
            serializer.instance = services.webhook_subscription_update(subscription_id=serializer.instance.pk, **serializer.validated_data)
        except ValidationError as exc:
            raise _invalid(exc) from None

    def perform_destroy(self, instance):
        services.webhook_subscription_delete(subscription_id=instance.pk)

    def _state(self, changed: bool) -> Response:
        subscription = self.get_object()
        body = WebhookSubscriptionSerializer(subscription).data | {"changed": changed}
        return Response(body, status=status.HTTP_200_OK if changed else status.HTTP_409_CONFLICT)

    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._state(services.webhook_subscription_pause(subscription_id=self.get_object().pk, reason=f"paused through the API by {request.user}"))

    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._state(services.webhook_subscription_resume(subscription_id=self.get_object().pk))

    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer)
    def deliveries(self, request, pk=None):
        rows = WebhookDeliveryFilter(request.query_params, queryset=WebhookDelivery.objects.filter(subscription=self.get_object())).qs
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
