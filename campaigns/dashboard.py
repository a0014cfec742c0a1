"""The admin site of the platform: a home dashboard for marketing staff, and the system tables
(Celery results, periodic-task internals, API tokens) moved out of the marketer's way.

The dashboard reads every app through its selectors (campaigns may import customers and
mlcore), which is why the site lives here; clmsite's admin config names it as the default site.
Each panel is one selector call; the jobs panel refreshes itself from `jobs.json`.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import path

from campaigns import selectors as campaign_selectors
from customers import selectors as customer_selectors
from mlcore.predictions import selectors as prediction_selectors
from mlcore.registry import selectors as registry_selectors
from mlcore.segments import selectors as segment_selectors

# Apps of the machinery, not of the shop: only superusers see them, in a "System" section last.
SYSTEM_APPS = ("django_celery_results", "django_celery_beat", "authtoken", "auth")


def dashboard_context() -> dict:
    """Every panel's data; charts get plain lists (json_script) and tables the rows."""
    run = segment_selectors.latest_run()
    return {
        "shop": customer_selectors.shop_totals(),
        "segment_run": run,
        "segments_over_time": segment_selectors.segment_sizes_over_time(),
        "segment_revenue": segment_selectors.segment_revenue(run_id=run.pk) if run else [],
        "at_risk": prediction_selectors.at_risk_summary(),
        "recent_campaigns": campaign_selectors.campaigns_recent(limit=5),
        "model_health": registry_selectors.model_health(),
        "jobs": registry_selectors.jobs_overview(),
        "currency": settings.SHOP_CURRENCY,
    }


class DashboardAdminSite(admin.AdminSite):
    """Django's admin with the dashboard as its index."""

    index_template = "admin/dashboard.html"

    def get_urls(self):
        own = [path("dashboard/jobs.json", self.admin_view(self.jobs_json), name="dashboard_jobs")]
        return own + super().get_urls()

    def index(self, request, extra_context=None):
        context = {**dashboard_context(), **(extra_context or {})}
        return super().index(request, extra_context=context)

    def jobs_json(self, request):
        return JsonResponse({"jobs": registry_selectors.jobs_overview()})

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        shop = [app for app in apps if app["app_label"] not in SYSTEM_APPS]
        system = [app for app in apps if app["app_label"] in SYSTEM_APPS]
        if not request.user.is_superuser or not system:
            return shop
        models = [dict(model, name=f"{app['name']}: {model['name']}") for app in system for model in app["models"]]
        return shop + [{"name": "System (superusers only)", "app_label": "system", "app_url": "", "has_module_perms": True, "models": models}]
