from rest_framework import viewsets

from mlcore.api import serializers
from mlcore.models import Job, ModelVersion


class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ModelVersion.objects.all()
    serializer_class = serializers.ModelVersionSerializer
    filterset_fields = ["kind", "status", "is_active"]
    ordering_fields = ["id", "version", "created_at"]


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Job.objects.all()
    serializer_class = serializers.JobSerializer
    filterset_fields = ["kind", "status"]
    ordering_fields = ["id", "created_at"]
