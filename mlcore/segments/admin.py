"""Admin of segmentation: runs (with "Run segmentation now"), segments, the charts page, and
the customer page's segment panel."""
from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from customers.money import money_format
from customers.panels import register_customer_panel
from infra.jobs import job_enqueue
from mlcore.models import FeatureSnapshot, Segment, SegmentationRun
from mlcore.segments import selectors

JOB_KIND = "segment_customers"


def profile_text(profile: dict) -> str:
    if not profile:
        return "-"
    return (
        f"{profile.get('recency_days', 0):.0f} d since last order, {profile.get('frequency', 0):.0f} orders, "
        f"{money_format(profile.get('monetary', 0), settings.SHOP_CURRENCY, places=0)} net, "
        f"{money_format(profile.get('avg_order_value', 0), settings.SHOP_CURRENCY, places=0)}/order, "
        f"{profile.get('tenure_days', 0):.0f} d tenure (medians)"
    )


@admin.register(FeatureSnapshot)
class FeatureSnapshotAdmin(admin.ModelAdmin):
    list_display = ["id", "snapshot_at", "status", "customer_count", "build_time", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in FeatureSnapshot._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="build seconds", ordering="build_seconds")
    def build_time(self, obj) -> str:
        return "-" if obj.build_seconds is None else f"{obj.build_seconds:,.1f}"


@admin.register(SegmentationRun)
class SegmentationRunAdmin(admin.ModelAdmin):
    list_display = ["id", "snapshot_at", "method", "status", "k", "customer_count", "silhouette", "davies_bouldin", "links", "finished_at"]
    list_filter = ["status", "method"]
    readonly_fields = [f.name for f in SegmentationRun._meta.fields]
    change_list_template = "admin/mlcore/segmentationrun/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="see")
    def links(self, obj) -> str:
        segments = reverse("admin:mlcore_segment_changelist") + f"?run__id__exact={obj.pk}"
        charts = reverse("admin:mlcore_segment_charts") + f"?run={obj.pk}"
        return format_html('<a href="{}">segments</a> · <a href="{}">charts</a>', segments, charts)

    def get_urls(self):
        run_now = self.admin_site.admin_view(require_POST(self.run_now_view))
        return [path("run-now/", run_now, name="mlcore_segmentationrun_run_now"), *super().get_urls()]

    def run_now_view(self, request):
        if not self.has_view_permission(request) or not request.user.is_staff:
            raise PermissionDenied
        from mlcore.segments.tasks import segment_customers

        job, created = job_enqueue(kind=JOB_KIND, task=segment_customers, params={"requested_by": str(request.user)})
        if not created:
            self.message_user(request, f"A segmentation is already {job.status} (job {job.pk}); this one was not started.", level=messages.WARNING)
        else:
            self.message_user(request, f"Segmentation queued as job {job.pk}; its progress shows on this page.")
        return HttpResponseRedirect(reverse("admin:infra_job_change", args=[job.pk]))


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "size", "revenue", "profile_summary", "description", "run"]
    list_filter = ["run", "key"]
    search_fields = ["name", "key", "description"]
    readonly_fields = [f.name for f in Segment._meta.fields] + ["profile_summary"]
    ordering = ["-run__snapshot_at", "-size"]
    change_list_template = "admin/mlcore/segment/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a segment goes with its run (delete the run)

    @admin.display(description="revenue share", ordering="revenue_share")
    def revenue(self, obj) -> str:
        return f"{obj.revenue_share:.1%}"

    @admin.display(description="typical profile")
    def profile_summary(self, obj) -> str:
        return profile_text(obj.profile)

    def get_urls(self):
        charts = self.admin_site.admin_view(self.charts_view)
        return [path("charts/", charts, name="mlcore_segment_charts"), *super().get_urls()]

    def charts_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run_id = request.GET.get("run")
        run = get_object_or_404(SegmentationRun, pk=run_id) if run_id else selectors.latest_run()
        context = {**self.admin_site.each_context(request), "title": "Segment charts", "run": run, "opts": self.model._meta}
        if run is not None:
            context.update(chart_context(run))
        return TemplateResponse(request, "admin/mlcore/segment/charts.html", context)


def chart_context(run: SegmentationRun) -> dict:
    segments = list(selectors.segment_list(run_id=run.pk))
    points = selectors.scatter_sample(run_id=run.pk)
    matrix = selectors.transition_matrix(run_id=run.pk)
    peak = max([max(row) for row in matrix.counts] + [1])
    rows = [
        {"name": name, "cells": [{"count": n, "alpha": round(0.08 + 0.8 * n / peak, 2)} for n in counts]}
        for name, counts in zip(matrix.from_names, matrix.counts, strict=True)
    ]
    return {
        "segments": segments,
        "chart_data": {
            "names": [s.name for s in segments], "sizes": [s.size for s in segments],
            "revenue": [round(100 * s.revenue_share, 1) for s in segments],
            "points": {s.name: [{"x": p["recency_days"], "y": p["monetary"]} for p in points if p["segment"] == s.name] for s in segments},
        },
        "matrix_to": matrix.to_names, "matrix_rows": rows, "previous_run": run.previous_run,
    }


@register_customer_panel("Segments", order=20)
def customer_segments_panel(customer_id: int) -> str:
    history = list(selectors.customer_segment_history(customer_id=customer_id)[:12])
    if not history:
        return format_html("<p>{}</p>", "Not segmented yet (no run since this customer's first order).")
    current = history[0]
    head = format_html(
        "<p><strong>{}</strong> since the run of {}: {}</p>", current.segment.name,
        f"{current.run.snapshot_at:%Y-%m-%d}", current.segment.description,
    )
    rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", ((f"{m.run.snapshot_at:%Y-%m-%d}", m.segment.name) for m in history))
    return format_html('{}<table><thead><tr><th>run</th><th>segment</th></tr></thead><tbody>{}</tbody></table>', head, rows)
