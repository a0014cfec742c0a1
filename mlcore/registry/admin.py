"""Admin of model versions (activate, roll back) and jobs (progress)."""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from infra import jobs
from infra.groups import ML_OPERATORS_GROUP_NAME
from infra.models import Job
from mlcore.models import ModelVersion
from mlcore.registry import services as registry
from mlcore.registry.metrics_display import metrics_tables, raw_json, readable_number
from mlcore.registry.selectors import headline_metrics


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
    list_display = ["kind", "version", "status", "is_active", "needs_retraining", "headline", "data_window_end", "trained_at", "code_version"]
    list_filter = ["kind", "status", "is_active", "needs_retraining"]
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


def startable_jobs() -> dict:
    """kind -> (label, task) of the pipelines staff may start from the admin."""
    from mlcore.feedback import tasks as feedback
    from mlcore.predictions import tasks as predictions
    from mlcore.recommendations import tasks as recommendations
    from mlcore.segments import tasks as segments

    return {
        "segment_customers": ("Segmentation", segments.segment_customers),
        "train_churn": ("Churn and value training", predictions.train_churn),
        "score_customers": ("Scoring", predictions.score_customers),
        "train_recommender": ("Recommender", recommendations.train_recommender),
        "score_reviews": ("Review scoring", feedback.score_reviews),
    }


def can_start_jobs(user) -> bool:
    return user.is_active and user.is_staff and (user.is_superuser or user.has_perm("infra.view_job"))


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress", "message", "created_at", "started_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["kind", "message", "error"]
    readonly_fields = ["progress", "live_message"] + [f.name for f in Job._meta.fields]
    date_hierarchy = "created_at"
    change_form_template = "admin/infra/job/change_form.html"
    change_list_template = "admin/infra/job/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a job's row is written by its task alone

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and (obj is None or obj.status not in jobs.OPEN)

    @admin.display(description="progress")
    def progress(self, obj) -> str:
        live = jobs.job_live(job=obj)
        return progress_bar(live["done"], live["total"])

    @admin.display(description="now")
    def live_message(self, obj) -> str:
        return jobs.job_live(job=obj)["message"]

    def get_urls(self):
        start = self.admin_site.admin_view(require_POST(self.start_view))
        return [path("start/<str:kind>/", start, name="infra_job_start"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        startable = [(kind, label) for kind, (label, _) in startable_jobs().items()] if can_start_jobs(request.user) else []
        return super().changelist_view(request, extra_context={"startable": startable, **(extra_context or {})})

    def start_view(self, request, kind: str):
        """Queue one of the pipelines as a job (never in the request); a second start joins the open one."""
        jobs_by_kind = startable_jobs()
        if kind not in jobs_by_kind or not can_start_jobs(request.user):
            raise PermissionDenied
        label, task = jobs_by_kind[kind]
        job, created = jobs.job_enqueue(kind=kind, task=task, params={"requested_by": str(request.user)})
        if created:
            self.message_user(request, f"{label}: queued as job {job.pk}; its progress shows on this page.")
        else:
            self.message_user(request, f"{label} is already {job.status} (job {job.pk}); this one was not started.", level=messages.WARNING)
        return HttpResponseRedirect(reverse("admin:infra_job_change", args=[job.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra = {"job_open": job is not None and job.status in jobs.OPEN, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)
