"""Admin of import batches: the report of every run, its progress, and the staff upload page."""
from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from customers.imports.readers import FIELDS, PRESETS, ImportFileError
from customers.imports.services import import_batch_rows_done, import_upload_queue
from customers.models import ImportBatch


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k) for k in FIELDS])
    preset = forms.ChoiceField(choices=[("", "- none: use the mapping -")] + [(p, f"{p} ({layout.kind})") for p, layout in PRESETS.items()], required=False)
    mapping = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text='JSON, e.g. {"columns": {"order_id": "Order", "sku": "Item", ...}, "delimiter": ";"}. Empty: canonical column names.',
    )
    file = forms.FileField(help_text="CSV or xlsx, plain or gzip.")
    synthetic_emails = forms.BooleanField(required=False, help_text="Demo only: fake customer-<id>@example.com addresses with consent.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise forms.ValidationError(f"The file ({upload.size:,} bytes) is larger than DATA_UPLOAD_MAX_MEMORY_SIZE "
                                        f"({settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes); import it with the import_* command.")
        return upload

    def clean_mapping(self) -> dict | None:
        text = self.cleaned_data["mapping"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The mapping is a JSON object.")
        return value

    def clean(self):
        data = super().clean()
        if not data.get("preset") and not data.get("mapping") and data.get("kind"):
            data["mapping"] = {"columns": {f: f for f in FIELDS[data["kind"]][0] + FIELDS[data["kind"]][1]}}
        return data


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "source_name", "status", "progress_bar", "rows_read", "rows_created", "rows_updated", "rows_unchanged", "started_at", "duration"]
    list_filter = ["kind", "status"]
    list_select_related = ["job"]  # the progress bar reads a running batch's job
    search_fields = ["source_name", "sha256"]
    readonly_fields = [
        "kind", "source_name", "sha256", "preset", "status", "progress_bar", "started_at", "finished_at", "rows_read",
        "rows_total", "rows_done", "rows_created", "rows_updated", "rows_unchanged", "message", "error", "job", "tables", "rules", "sample_lines", "mapping",
    ]
    exclude = ["rule_counts", "samples", "entity_counts"]
    change_list_template = "admin/customers/importbatch/change_list.html"
    change_form_template = "admin/customers/importbatch/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        batch = self.get_object(request, object_id)
        open_ = batch is not None and batch.status in (ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING)
        return super().change_view(request, object_id, form_url, extra_context={"batch_open": open_, **(extra_context or {})})

    def get_urls(self):
        return [path("upload/", self.admin_site.admin_view(self.upload_view), name="customers_importbatch_upload"), *super().get_urls()]

    def upload_view(self, request):
        if not request.user.is_staff:
            return redirect("admin:login")
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                batch_id = import_upload_queue(data=data["file"].read(), source_name=data["file"].name, kind=data["kind"],
                                               preset=data["preset"] or None, mapping=data["mapping"], synthetic_emails=data["synthetic_emails"])
            except (ImportFileError, ValueError) as exc:
                self.message_user(request, f"Import refused: {exc}", level=messages.ERROR)
                return TemplateResponse(request, "admin/customers/importbatch/upload.html", self._context(request, form))
            self.message_user(request, f"{data['file'].name} is queued as import batch {batch_id}; this page shows its progress and report.")
            return redirect(reverse("admin:customers_importbatch_change", args=[batch_id]))
        return TemplateResponse(request, "admin/customers/importbatch/upload.html", self._context(request, form))

    def _context(self, request, form) -> dict:
        return {**self.admin_site.each_context(request), "form": form, "title": "Import a file", "opts": self.model._meta}

    @admin.display(description="progress")
    def progress_bar(self, obj) -> str:
        done = import_batch_rows_done(batch=obj)
        pct = round(100 * done / obj.rows_total) if obj.rows_total else 0
        return format_html('<progress max="100" value="{}"></progress> {}% ({} / {})', pct, pct, done, obj.rows_total)

    @admin.display(description="took")
    def duration(self, obj) -> str:
        if obj.started_at and obj.finished_at:
            return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"
        return "-"

    @admin.display(description="tables (created / updated / unchanged)")
    def tables(self, obj) -> str:
        return _table(["table", "created", "updated", "unchanged"],
                      [[name, c["created"], c["updated"], c["unchanged"]] for name, c in obj.entity_counts.items() if name != "figures"]
                      + [[f"figure: {k}", v, "", ""] for k, v in obj.entity_counts.get("figures", {}).items()])

    @admin.display(description="cleaning rules (lines affected)")
    def rules(self, obj) -> str:
        return _table(["rule", "lines"], [[name, count] for name, count in obj.rule_counts.items()])

    @admin.display(description="sample of affected lines")
    def sample_lines(self, obj) -> str:
        return format_html("<pre style='max-height:30em;overflow:auto'>{}</pre>", json.dumps(obj.samples, indent=1, ensure_ascii=False))


def _table(header: list[str], rows: list[list]) -> str:
    head = format_html_join("", "<th>{}</th>", ((h,) for h in header))
    body = format_html_join("", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows))
    return format_html("<table><tr>{}</tr>{}</table>", head, body)
