"""API of segments: the latest run's segments, a segment's members, a customer's history."""
from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from clmsite.pagination import cursor_pagination
from customers.api.conventions import KnownQueryParamsFilter
from customers.api.scopes import Scope
from customers.selectors import customer_id_map
from mlcore.models import Segment, SegmentationRun, SegmentMembership
from mlcore.segments import selectors


class SegmentationRunSerializer(serializers.ModelSerializer):
    model_version = serializers.CharField(source="model_version.label", read_only=True, allow_null=True, help_text='kind:version, e.g. "segmentation:2".')

    class Meta:
        model = SegmentationRun
        fields = ["id", "method", "snapshot_at", "status", "k", "customer_count", "silhouette", "davies_bouldin", "model_version", "previous_run", "finished_at"]


class SegmentSerializer(serializers.ModelSerializer):
    run_snapshot_at = serializers.DateTimeField(source="run.snapshot_at", read_only=True)

    class Meta:
        model = Segment
        fields = ["id", "run", "run_snapshot_at", "key", "name", "description", "size", "revenue_share", "profile"]


class SegmentMemberSerializer(serializers.ModelSerializer):
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True)

    class Meta:
        model = SegmentMembership
        fields = ["id", "customer", "customer_external_id"]


class CustomerSegmentSerializer(serializers.ModelSerializer):
    run_snapshot_at = serializers.DateTimeField(source="run.snapshot_at", read_only=True)
    key = serializers.CharField(source="segment.key", read_only=True)
    name = serializers.CharField(source="segment.name", read_only=True)
    segment_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = SegmentMembership
        fields = ["id", "run", "run_snapshot_at", "segment_id", "key", "name"]


class SegmentationRunViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = Scope.READ_SEGMENTS
    queryset = SegmentationRun.objects.select_related("model_version")
    serializer_class = SegmentationRunSerializer
    filterset_fields = ["status", "method"]
    ordering_fields = ["id", "snapshot_at"]


@extend_schema(parameters=[OpenApiParameter("run", int, description="Run id (default: the latest ready run).")])
class SegmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Segments of the latest run (or of ?run=ID); /members lists a segment's customers, paginated."""

    required_scopes = Scope.READ_SEGMENTS
    serializer_class = SegmentSerializer
    extra_query_params = ("run",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Segment.objects.none()
        if self.action != "list":
            return Segment.objects.select_related("run")
        run = self.request.query_params.get("run")
        if run is not None and not run.isdigit():
            raise ValidationError({"run": f"A run id (an integer), got {run!r}."})
        return selectors.segment_list(run_id=int(run) if run else None)

    @extend_schema(responses=SegmentMemberSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=SegmentMemberSerializer)
    def members(self, request, pk=None):
        segment = self.get_object()
        page = self.paginate_queryset(selectors.segment_members(segment_id=segment.pk))
        return self.get_paginated_response(SegmentMemberSerializer(page, many=True).data)


class CustomerSegmentHistoryView(generics.ListAPIView):
    """A customer's segment in every run, newest run first."""

    required_scopes = Scope.READ_SEGMENTS
    serializer_class = CustomerSegmentSerializer
    filter_backends = [KnownQueryParamsFilter]
    pagination_class = cursor_pagination("-run_snapshot", "-run_id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SegmentMembership.objects.none()
        external_id = self.kwargs["external_id"]
        customer_id = customer_id_map(external_ids=[external_id]).get(external_id)
        if customer_id is None:
            raise Http404(f"No customer with external id {external_id!r}.")
        return selectors.customer_segment_history(customer_id=customer_id)
