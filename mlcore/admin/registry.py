"""Admin of model versions (activate, roll back) and jobs (progress)."""
from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from customers.marketing_group import ML_OPERATORS_GROUP_NAME
from mlcore.admin.metrics_display import metrics_tables, raw_json, readable_number
from mlcore.models import Job, ModelVersion
from mlcore.selectors.registry import headline_metrics
from mlcore.services import registry


def is_ml_operator(user) -> bool:
    """Superusers and members of the "ML operators" group may overrule the registry's gates."""
    return user.is_active and (user.is_superuser or user.groups.filter(name=ML_OPERATORS_GROUP_NAME).exists())


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
    list_display = ["kind", "version", "status", "is_active", "headline", "data_window_end", "trained_at", "code_version"]
    list_filter = ["kind", "status", "is_active"]
    search_fields = ["kind", "notes"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields] + ["metrics_summary", "params_display", "metrics_raw"]
    actions = ["activate", "rollback"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["kind", "version", "status", "is_active", "trained_at", "activated_at", "data_window_start", "data_window_end", "notes", "error"]}),
        ("Metrics", {"fields": ["metrics_summary"]}),
        ("Artefact and parameters", {"classes": ["collapse"], "fields": ["artefact_path", "artefact_sha256", "code_version", "created_at", "params_display"]}),
        ("Raw metrics (JSON)", {"classes": ["collapse"], "fields": ["metrics_raw"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """Only training or failed versions may go: a ready one may be activated or rolled back to."""
        if obj is not None and (obj.is_active or obj.status == ModelVersion.Status.READY):
            return False
        return super().has_delete_permission(request, obj)

    def has_ml_operate_permission(self, request) -> bool:
        return is_ml_operator(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would skip the per-version check above
        return actions

    @admin.display(description="metrics")
    def headline(self, obj) -> str:
        return ", ".join(f"{k} {readable_number(v)}" for k, v in headline_metrics(obj.metrics)) or "-"

    @admin.display(description="metrics")
    def metrics_summary(self, obj) -> str:
        return metrics_tables(obj.metrics)

    @admin.display(description="params")
    def params_display(self, obj) -> str:
        return raw_json(obj.params)

    @admin.display(description="metrics as stored")
    def metrics_raw(self, obj) -> str:
        return raw_json(obj.metrics)

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset):
        for mv in queryset:
            try:
                registry.model_version_activate(version_id=mv.pk)
                self.message_user(request, f"{mv.kind} v{mv.version} is now active.")
            except registry.ActivationRefused as exc:
                self.message_user(request, str(exc), level=messages.ERROR)

    @admin.action(description="Roll back to the previously active version of this kind (ML operators)", permissions=["ml_operate"])
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
