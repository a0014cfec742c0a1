"""The download of an export file, shared by the admin and the API: it is itself a PII read, so
each download is recorded in the access log."""
from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import get_object_or_404

from customers.privacy import services
from customers.privacy.models import PiiAccess, PrivacyRequest


def export_download(request, pk: int) -> FileResponse:
    job = get_object_or_404(PrivacyRequest, pk=pk, kind=PrivacyRequest.Kind.EXPORT, status=PrivacyRequest.Status.SUCCEEDED)
    services.pii_access_record_request(request=request, action=PiiAccess.Action.EXPORT, customer_ids=[job.customer_id])
    return FileResponse(services.privacy_export_open(request_id=job.pk), as_attachment=True,
                        filename=f"customer-{job.customer_id}-export-{job.pk}.json", content_type="application/json")
