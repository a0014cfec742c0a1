"""Admin of model versions (activate, roll back) and jobs (progress)."""
from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from mlcore.models import Job, ModelVersion
from mlcore.services import registry


def progress_bar(done: int, total: int | None) -> str:
    if not total:
        return format_html("{}", done)
    pct = min(100.0, 100.0 * done / total)
    return format_html(
        '<div style="width:140px;background:#eee;border-radius:3px">'
        '<div style="width:{}%;background:#417690;color:#fff;font-size:11px;padding:1px 3px;border-radius:3px;white-space:nowrap">{}%</div>'
        "</div><small>{} / {}</small>",
        f"{pct:.0f}", f"{pct:.0f}", done, total,
    )


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["kind", "version", "status", "is_active", "needs_retraining", "headline_metrics", "data_window_end", "trained_at", "code_version"]
    list_filter = ["kind", "status", "is_active", "needs_retraining"]
    search_fields = ["kind", "notes"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["activate", "rollback"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="metrics")
    def headline_metrics(self, obj) -> str:
        shown = [(k, v) for k, v in (obj.metrics or {}).items() if isinstance(v, int | float)][:4]
        return ", ".join(f"{k}={v:.3g}" for k, v in shown) or "-"

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset):
        for mv in queryset:
            try:
                registry.model_version_activate(version_id=mv.pk)
                self.message_user(request, f"{mv.kind} v{mv.version} is now active.")
            except registry.ActivationRefused as exc:
                self.message_user(request, str(exc), level=messages.ERROR)

    @admin.action(description="Roll back to the previously active version of this kind")
    def rollback(self, request, queryset):
        for kind in sorted(set(queryset.values_list("kind", flat=True))):
            try:
                mv = registry.model_version_rollback(kind=kind)
                self.message_user(request, f"{kind}: v{mv.version} is active again.")
            except registry.ActivationRefused as exc:
                self.message_user(request, str(exc), level=messages.ERROR)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress", "message", "created_at", "started_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["kind", "message", "error"]
    readonly_fields = [f.name for f in Job._meta.fields] + ["progress"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="progress")
    def progress(self, obj) -> str:
        return progress_bar(obj.done, obj.total)
