"""Admin of predictions: churn model pages (metrics, ROC and calibration charts, importances,
drift), gated activation, the top at-risk customers by value, and the customer page panel."""
from __future__ import annotations

from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from customers.panels import register_customer_panel
from mlcore.ml.predictions.drift import PSI_WARNING
from mlcore.models import CustomerScore, ModelVersion
from mlcore.predictions import selectors, services
from mlcore.registry import services as registry
from mlcore.registry.admin import ModelVersionAdmin


class ChurnAwareModelVersionAdmin(ModelVersionAdmin):
    """The registry's model admin; churn versions get a report and a gated activation."""

    actions = ["activate", "force_activate", "rollback"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["churn_report"] if obj is not None and obj.kind == services.CHURN else fields

    def get_fieldsets(self, request, obj=None):
        """A churn version's report (tables and charts) stands in for the generic metric tables."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.kind != services.CHURN:
            return fieldsets
        return [(name, {**opts, "fields": ["churn_report"]}) if name == "Metrics" else (name, opts) for name, opts in fieldsets]

    @admin.display(description="report")
    def churn_report(self, obj) -> str:
        drift = selectors.latest_drift_report(version_id=obj.pk)
        context = {"mv": obj, "m": obj.metrics or {}, "drift": drift, "psi_warning": PSI_WARNING, "chart_id": f"mv{obj.pk}",
                   "drift_horizon": (obj.params or {}).get("drift_horizon_days")}
        return mark_safe(render_to_string("admin/mlcore/churn_report.html", context))  # noqa: S308 - autoescaped template

    @admin.action(description="Activate the selected version (churn: only if at least as good as the active one)")
    def activate(self, request, queryset):
        self._activate(request, queryset, force=False)

    @admin.action(description="Force-activate the selected churn version even if it is worse (ML operators)", permissions=["ml_operate"])
    def force_activate(self, request, queryset):
        self._activate(request, queryset, force=True)

    def _activate(self, request, queryset, *, force: bool) -> None:
        for mv in queryset:
            try:
                if mv.kind == services.CHURN:
                    decision = services.churn_model_promote(version_id=mv.pk, force=force)
                    self.message_user(request, f"churn v{mv.version} is now active (ROC AUC {decision.candidate_auc:.4f} vs {decision.active_auc}).")
                else:
                    registry.model_version_activate(version_id=mv.pk)
                    self.message_user(request, f"{mv.kind} v{mv.version} is now active.")
            except (registry.ActivationRefused, ValueError) as exc:
                self.message_user(request, str(exc), level=messages.ERROR)


admin.site.unregister(ModelVersion)
admin.site.register(ModelVersion, ChurnAwareModelVersionAdmin)


class RiskFilter(admin.SimpleListFilter):
    title = "churn risk"
    parameter_name = "risk"
    HIGH = 0.7

    def lookups(self, request, model_admin):
        return [("high", f"high (>= {self.HIGH})"), ("medium", f"at risk (>= {selectors.at_risk_threshold():.2f}, the shop's rule)")]

    def queryset(self, request, queryset):
        levels = {"high": self.HIGH, "medium": selectors.at_risk_threshold()}
        if self.value() in levels:
            return queryset.filter(churn_probability__gte=levels[self.value()])
        return queryset


@admin.register(CustomerScore)
class CustomerScoreAdmin(admin.ModelAdmin):
    """Scores of the active churn version, most valuable first: the top at-risk customers by value."""

    # P(active) is not listed beside churn risk: BG/NBD's "has not dropped out for good" reads as a
    # contradiction of "no order in the churn window" (issue 18); the customer page explains both.
    list_display = ["customer", "churn_probability_display", "expected_value_12m_display", "value_at_stake_display", "expected_purchases_90_display", "reason", "scored_at"]
    list_filter = [RiskFilter]
    search_fields = ["customer__external_id", "customer__name", "customer__email"]
    list_select_related = ["customer"]
    readonly_fields = [f.name for f in CustomerScore._meta.fields]

    def get_queryset(self, request):
        return selectors.at_risk_customers(churn_min=0.0, min_value=0.0)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="churn risk", ordering="churn_probability")
    def churn_probability_display(self, obj) -> str:
        return f"{obj.churn_probability:.2f}"

    @admin.display(description="12-month value", ordering="expected_value_12m")
    def expected_value_12m_display(self, obj) -> str:
        return "-" if obj.expected_value_12m is None else f"{obj.expected_value_12m:,.2f}"

    @admin.display(description="value at stake", ordering="value_rank")
    def value_at_stake_display(self, obj) -> str:
        return "-" if obj.expected_value_12m is None else f"{obj.churn_probability * obj.expected_value_12m:,.2f}"

    @admin.display(description="purchases next 90 d", ordering="expected_purchases_90")
    def expected_purchases_90_display(self, obj) -> str:
        return "-" if obj.expected_purchases_90 is None else f"{obj.expected_purchases_90:.2f}"


def figure(value, pattern: str = "{:.2f}") -> str:
    return "-" if value is None else pattern.format(value)


def value_text(score) -> str:
    """The value, its 90% bootstrap interval where one was computed (small shops), and how it was reached."""
    text = figure(score.expected_value_12m, "{:,.2f}")
    if score.expected_value_12m_low is not None and score.expected_value_12m_high is not None:
        text += f" (90% interval {score.expected_value_12m_low:,.2f} to {score.expected_value_12m_high:,.2f})"
    return f"{text}: {score.value_reason}" if score.value_reason else text


@register_customer_panel("Predictions", order=30)
def predictions_panel(customer_id: int) -> str:
    score = selectors.customer_scores(customer_id=customer_id)
    if score is None:
        return format_html("<p>{}</p>", "No scores yet (the nightly scoring has not run for this customer).")
    window = (score.model_version.params.get("config") or {}).get("window_days", 90)
    rows = [
        ("Churn risk", f"{figure(score.churn_probability)}: the calibrated probability of no order in the next {window} days "
                       f"(so {figure(1 - score.churn_probability)} of at least one)"),
        ("Reason", score.reason),
        ("Expected purchases 30 / 90 / 365 days", " / ".join(figure(v) for v in (score.expected_purchases_30, score.expected_purchases_90, score.expected_purchases_365))),
        ("Expected 12-month value", value_text(score)),
        ("Model", f"churn v{score.model_version.version}, scored {score.scored_at:%Y-%m-%d %H:%M}"),
    ]
    body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    return format_html("<table>{}</table>", body)
