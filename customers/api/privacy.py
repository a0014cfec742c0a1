"""GDPR endpoints: POST /customers/<external_id>/export and /erase queue a job (202) whose state
GET /privacy-requests/<id> answers; an export's file is GET /privacy-requests/<id>/download.
Every call is in the PII access log."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import RetrieveAPIView
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from customers.api.scopes import Scope
from customers.models import Customer
from customers.privacy import services
from customers.privacy.download import export_download
from customers.privacy.models import PrivacyRequest


class PrivacyRequestSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = PrivacyRequest
        fields = ["id", "kind", "customer", "status", "requested_by", "result", "error", "created_at", "started_at", "finished_at", "download_url"]

    def get_download_url(self, obj) -> str | None:
        if obj.kind != PrivacyRequest.Kind.EXPORT or obj.status != PrivacyRequest.Status.SUCCEEDED:
            return None
        return reverse("privacyrequest-download", args=[obj.pk], request=self.context.get("request"))


class _PrivacyJobView(APIView):
    kind = ""
    required_scopes = Scope.WRITE_PRIVACY

    @extend_schema(request=None, responses={202: PrivacyRequestSerializer})
    def post(self, request, external_id: str):
        customer = get_object_or_404(Customer, external_id=external_id)
        job = services.privacy_request_create(kind=self.kind, customer_id=customer.pk, request=request)
        job.refresh_from_db()  # without a broker the job has already run
        return Response(PrivacyRequestSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class CustomerExportView(_PrivacyJobView):
    kind = PrivacyRequest.Kind.EXPORT


class CustomerEraseView(_PrivacyJobView):
    kind = PrivacyRequest.Kind.ERASE


class PrivacyRequestDetail(RetrieveAPIView):
    queryset = PrivacyRequest.objects.all()
    serializer_class = PrivacyRequestSerializer
    required_scopes = Scope.WRITE_PRIVACY


class PrivacyRequestDownload(APIView):
    required_scopes = Scope.WRITE_PRIVACY

    @extend_schema(responses={(200, "application/json"): bytes})
    def get(self, request, pk: int):
        return export_download(request, pk)
