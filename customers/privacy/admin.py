"""Admin of privacy: GDPR export and erasure as actions on customers (erasure after a confirmation
page), the request log with each export's download, and the read-only PII access log."""
from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from customers.privacy import services
from customers.privacy.download import export_download
from customers.privacy.models import PiiAccess, PrivacyRequest
from customers.readonly_admin import ReadOnlyAdmin


def _queue(modeladmin, request, queryset, kind: str) -> None:
    jobs = [services.privacy_request_create(kind=kind, customer_id=pk, request=request) for pk in queryset.values_list("pk", flat=True)]
    link = reverse("admin:customers_privacyrequest_changelist")
    modeladmin.message_user(request, format_html('{} {} requests queued; see <a href="{}">privacy requests</a>.', len(jobs), kind, link))


@admin.action(description="GDPR: export everything held on the selected customers")
def gdpr_export(modeladmin, request, queryset):
    _queue(modeladmin, request, queryset, PrivacyRequest.Kind.EXPORT)


@admin.action(description="GDPR: erase the selected customers (asks to confirm)")
def gdpr_erase(modeladmin, request, queryset):
    if request.POST.get("confirm") == "yes":
        _queue(modeladmin, request, queryset, PrivacyRequest.Kind.ERASE)
        return None
    context = {**modeladmin.admin_site.each_context(request), "title": "Erase customers?", "customers": queryset[:200],
               "count": queryset.count(), "ids": list(queryset.values_list("pk", flat=True)), "opts": modeladmin.model._meta}
    return TemplateResponse(request, "admin/customers/customer/erase_confirmation.html", context)


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ReadOnlyAdmin):  # the request log is the evidence that a request was honoured
    list_display = ["created_at", "kind", "customer", "status", "requested_by", "finished_at", "download"]
    list_filter = ["kind", "status"]
    search_fields = ["customer__external_id", "requested_by"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    readonly_fields = ["kind", "customer", "status", "requested_by", "file_name", "result", "error", "created_at", "started_at", "finished_at", "download"]

    @admin.display(description="file")
    def download(self, obj) -> str:
        if obj.kind != PrivacyRequest.Kind.EXPORT or obj.status != PrivacyRequest.Status.SUCCEEDED:
            return "-"
        return format_html('<a href="{}">download JSON</a>', reverse("admin:customers_privacyrequest_download", args=[obj.pk]))

    def get_urls(self):
        view = self.admin_site.admin_view(self.download_view)
        return [path("<int:pk>/download/", view, name="customers_privacyrequest_download"), *super().get_urls()]

    def download_view(self, request, pk: int):
        return export_download(request, pk)


@admin.register(PiiAccess)
class PiiAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "method", "route", "customer_count"]
    list_filter = ["action"]
    search_fields = ["actor", "api_key", "route"]
    date_hierarchy = "at"
    show_full_result_count = False
