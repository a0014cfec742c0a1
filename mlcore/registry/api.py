from rest_framework import viewsets

from customers.api.scopes import Scope
from infra.models import Job
from mlcore.models import ModelVersion
from mlcore.registry import serializers


class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = Scope.READ_SCORES
    queryset = ModelVersion.objects.all()
    serializer_class = serializers.ModelVersionSerializer
    filterset_fields = ["kind", "status", "is_active"]
    ordering_fields = ["id", "version", "created_at"]


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = Scope.READ_SCORES
    queryset = Job.objects.all()
    serializer_class = serializers.JobSerializer
    filterset_fields = ["kind", "status"]
    ordering_fields = ["id", "created_at"]
