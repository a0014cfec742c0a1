"""Campaigns API: list, create and read campaigns; lifecycle actions; the results report;
the audience criteria catalogue; bounce reports from the mail provider."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors
from campaigns.api.serializers import BounceSerializer, CampaignSerializer, ScheduleSerializer
from campaigns.api.signing import BounceSignatureAuthentication, IsMailProvider
from campaigns.audience import criteria
from campaigns.models import Campaign
from campaigns.services import lifecycle
from campaigns.services.tracking import bounce_record
from customers.api.scopes import Scope


def _validation(exc: ValidationError) -> serializers.ValidationError:
    return serializers.ValidationError({"detail": exc.messages})


class CampaignViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Campaign.objects.prefetch_related("variants")
    serializer_class = CampaignSerializer
    required_scopes = {"GET": Scope.READ_CAMPAIGNS, "POST": Scope.WRITE_CAMPAIGNS}
    filterset_fields = ["status"]
    ordering_fields = ["id", "send_at"]
    ordering = ["-id"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        variants = data.pop("variants")
        try:
            serializer.instance = lifecycle.campaign_create(variants=variants, **data)
        except ValidationError as exc:
            raise _validation(exc) from None

    def _transition(self, func, **kwargs) -> Response:
        campaign = self.get_object()
        try:
            ok = func(campaign_id=campaign.pk, **kwargs)
        except ValidationError as exc:
            raise _validation(exc) from None
        campaign.refresh_from_db()
        code = status.HTTP_200_OK if ok else status.HTTP_409_CONFLICT
        return Response({"id": campaign.pk, "status": campaign.status, "changed": bool(ok)}, status=code)

    @extend_schema(request=ScheduleSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        body = ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._transition(lifecycle.campaign_schedule, send_at=body.validated_data.get("send_at"))

    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._transition(lifecycle.campaign_start)

    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._transition(lifecycle.campaign_pause)

    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._transition(lifecycle.campaign_resume)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(lifecycle.campaign_cancel)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        return Response(selectors.campaign_report(campaign_id=self.get_object().pk))


class AudienceCriteriaView(APIView):
    required_scopes = {"GET": Scope.READ_CAMPAIGNS}

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response([{"key": c.key, "label": c.label, "schema": c.schema} for c in criteria()])


class BounceView(APIView):
    """Only the mail provider's signed call (campaigns/api/signing.py); no token or key."""

    authentication_classes = [BounceSignatureAuthentication]
    permission_classes = [IsMailProvider]
    required_scopes = None  # no credential of a user or partner is accepted here

    @extend_schema(request=BounceSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        body = BounceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        recorded = bounce_record(**body.validated_data)
        return Response({"suppressed": recorded}, status=status.HTTP_202_ACCEPTED)
