from rest_framework import serializers

from infra.models import Job
from mlcore.models import ModelVersion


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "id", "kind", "version", "status", "is_active", "params", "metrics", "artefact_sha256",
            "data_window_start", "data_window_end", "code_version", "created_at", "trained_at", "activated_at",
        ]


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = ["id", "kind", "status", "done", "total", "percent", "message", "result", "error", "created_at", "started_at", "finished_at"]
