"""Admin of campaigns: editing with variants, preview for any customer, test send to a staff
address, schedule / send now / pause / resume / cancel, the delivery ledger and the report."""
from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns import selectors
from campaigns.audience import audience_rules_validate, criteria
from campaigns.models import Campaign, Delivery, Suppression, Variant
from campaigns.rendering import message_render
from campaigns.services import lifecycle
from customers.models import Customer
from customers.panels import register_customer_panel


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name", "slug", "audience_rules", "holdout_share", "seed", "send_at", "recurrence", "recurrence_weekday", "recurrence_time",
            "only_new_entrants", "throttle_per_minute", "from_email", "offer_text", "discount_prefix", "recommendations_count",
            "landing_html", "conversion_window_days",
        ]

    def clean_audience_rules(self):
        return audience_rules_validate(self.cleaned_data["audience_rules"])


class VariantInline(admin.StackedInline):
    model = Variant
    extra = 0
    max_num = lifecycle.MAX_VARIANTS
    min_num = 1


def _rules_help() -> str:
    return format_html_join("", "<li><code>{}</code> {}: <code>{}</code></li>", ((c.key, c.label, json.dumps(c.schema.get("properties", {}))) for c in criteria()))


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    inlines = [VariantInline]
    list_display = ["name", "status", "send_at", "recurrence", "next_run_at", "started_at", "finished_at", "ledger"]
    list_filter = ["status", "recurrence"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["status", "started_at", "finished_at", "last_batch_at", "next_run_at", "parent", "job_id", "criteria_help", "tools"]
    actions = ["schedule_selected", "send_now", "pause_selected", "resume_selected", "cancel_selected"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "status", "tools"]}),
        ("Audience", {"fields": ["audience_rules", "criteria_help", "holdout_share", "seed"]}),
        ("Schedule", {"fields": ["send_at", "recurrence", "recurrence_weekday", "recurrence_time", "only_new_entrants", "throttle_per_minute"]}),
        ("Content", {"fields": ["from_email", "offer_text", "discount_prefix", "recommendations_count", "landing_html", "conversion_window_days"]}),
        ("Progress", {"fields": ["started_at", "finished_at", "last_batch_at", "next_run_at", "parent", "job_id"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        frozen = ["audience_rules", "holdout_share", "seed"] if obj and obj.started_at else []
        return self.readonly_fields + frozen

    @admin.display(description="Audience criteria")
    def criteria_help(self, obj) -> str:
        return format_html("<ul>{}</ul>", _rules_help())

    @admin.display(description="Tools")
    def tools(self, obj) -> str:
        if not obj or not obj.pk:
            return "-"
        base = "admin:campaigns_campaign_"
        return format_html(
            '<a class="button" href="{}">Preview / test send</a> <a class="button" href="{}">Report</a> <a class="button" href="{}">Delivery ledger</a>',
            reverse(base + "preview", args=[obj.pk]), reverse(base + "report", args=[obj.pk]),
            reverse("admin:campaigns_delivery_changelist") + f"?campaign__id__exact={obj.pk}",
        )

    @admin.display(description="Ledger")
    def ledger(self, obj) -> str:
        progress = selectors.campaign_progress(campaign_id=obj.pk)
        return ", ".join(f"{k} {v}" for k, v in sorted(progress.items())) or "-"

    def get_urls(self):
        own = [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="campaigns_campaign_preview"),
            path("<int:pk>/report/", self.admin_site.admin_view(self.report_view), name="campaigns_campaign_report"),
        ]
        return own + super().get_urls()

    def _apply(self, request, queryset, action, label):
        done, refused = 0, []
        for campaign in queryset:
            try:
                ok = action(campaign_id=campaign.pk)
            except ValidationError as exc:
                refused.append(f"{campaign.name}: {'; '.join(exc.messages)}")
                continue
            done += bool(ok)
            if not ok:
                refused.append(f"{campaign.name}: not possible while {campaign.status}")
        self.message_user(request, f"{label}: {done} campaign(s).")
        for line in refused:
            self.message_user(request, line, level=messages.WARNING)

    @admin.action(description="Schedule (at send time, or next recurrence)")
    def schedule_selected(self, request, queryset):
        self._apply(request, queryset, lifecycle.campaign_schedule, "Scheduled")

    @admin.action(description="Send now")
    def send_now(self, request, queryset):
        self._apply(request, queryset, lifecycle.campaign_start, "Started")

    @admin.action(description="Pause")
    def pause_selected(self, request, queryset):
        self._apply(request, queryset, lifecycle.campaign_pause, "Paused")

    @admin.action(description="Resume")
    def resume_selected(self, request, queryset):
        self._apply(request, queryset, lifecycle.campaign_resume, "Resumed")

    @admin.action(description="Cancel")
    def cancel_selected(self, request, queryset):
        self._apply(request, queryset, lifecycle.campaign_cancel, "Cancelled")

    def preview_view(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        form = PreviewForm(request.POST or request.GET or None, campaign=campaign, user=request.user)
        rendered = None
        if form.is_bound and form.is_valid():
            variant, customer = form.cleaned_data["variant"], form.cleaned_data["customer"]
            if request.method == "POST" and form.cleaned_data.get("send_to"):
                subject = lifecycle.campaign_test_send(campaign_id=campaign.pk, variant_id=variant.pk, customer_id=customer.pk if customer else None, to=form.cleaned_data["send_to"])
                self.message_user(request, f"Test message '{subject}' sent to {form.cleaned_data['send_to']}.")
                return redirect(f"{request.path}?variant={variant.pk}&customer={form.data.get('customer', '')}")
            rendered = message_render(campaign=campaign, variant=variant, customer=customer, delivery_id=None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": campaign, "title": f"Preview: {campaign.name}", "form": form, "rendered": rendered}
        return TemplateResponse(request, "admin/campaigns/campaign/preview.html", context)

    def report_view(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        report = selectors.campaign_report(campaign_id=pk)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": campaign, "title": f"Results: {campaign.name}", "report": report}
        return TemplateResponse(request, "admin/campaigns/campaign/report.html", context)


class PreviewForm(forms.Form):
    variant = forms.ModelChoiceField(queryset=Variant.objects.none())
    customer = forms.CharField(required=False, help_text="Customer id or external id; empty: the generic version.")
    send_to = forms.EmailField(required=False, label="Test send to (a staff address)")

    def __init__(self, *args, campaign: Campaign, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].queryset = campaign.variants.all()
        self.fields["variant"].initial = campaign.variants.first()
        self.fields["send_to"].initial = user.email
        self.user = user

    def clean_customer(self):
        value = (self.cleaned_data.get("customer") or "").strip()
        if not value:
            return None
        customer = Customer.objects.filter(external_id=value).first() or (Customer.objects.filter(pk=int(value)).first() if value.isdigit() else None)
        if customer is None:
            raise ValidationError(f"customer: no customer with id or external id {value!r}")
        return customer

    def clean_send_to(self):
        to = self.cleaned_data.get("send_to")
        if to and not get_user_model().objects.filter(is_staff=True, is_active=True, email__iexact=to).exists():
            raise ValidationError(f"send_to: {to} is not the address of an active staff user")
        return to


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The ledger, read only: one row per campaign and customer."""

    list_display = ["id", "campaign", "customer", "variant", "is_holdout", "status", "attempts", "sent_at", "opened_at", "clicked_at", "error_short"]
    list_filter = ["status", "is_holdout", "campaign"]
    search_fields = ["customer__email", "customer__external_id", "message_id"]
    list_select_related = ["campaign", "customer", "variant"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Error")
    def error_short(self, obj) -> str:
        return obj.error[:80]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at", "note"]
    list_filter = ["reason"]
    search_fields = ["email"]


@register_customer_panel("Campaigns", order=60)
def _campaign_panel(customer_id: int) -> str:
    rows = selectors.customer_campaign_history(customer_id=customer_id)
    if not rows:
        return format_html("<p>{}</p>", "No campaign has selected this customer.")
    items = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
        (d.campaign.name, "holdout" if d.is_holdout else d.variant.name, d.status, d.sent_at or "-", d.clicked_at or "-") for d in rows
    ))
    return format_html("<table><tr><th>Campaign</th><th>Arm</th><th>Status</th><th>Sent</th><th>Last click</th></tr>{}</table>", items)


from campaigns.assistant import admin as assistant_admin  # noqa: E402,F401  (registers the support assistant admin)
