"""Admin of campaigns: the builder (starting templates, the audience as a form with a live
count, templates compiled on save; saved through the services), preview for any customer, test
send to a staff address, schedule / send now / pause / resume / cancel, the ledger and the report."""
from __future__ import annotations

import copy
import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template import TemplateSyntaxError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns import selectors
from campaigns.audience import criteria
from campaigns.audience_form import AUDIENCE_FIELDS, AudienceFields, audience_initial
from campaigns.copywriting.admin import draft_copy
from campaigns.models import Campaign, Delivery, Suppression, Variant
from campaigns.rendering import message_render, template_error
from campaigns.services import authoring, lifecycle, tracking
from campaigns.starters import STARTERS, starter_variant
from customers.models import Customer
from customers.panels import register_customer_panel
from customers.readonly_admin import ReadOnlyAdmin


class CampaignForm(AudienceFields, forms.ModelForm):
    """The campaign builder: the audience as fields (AudienceFields), everything else the model's."""

    class Meta:
        model = Campaign
        fields = [name for name in authoring.EDITABLE if name != "audience_rules"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name, value in audience_initial(self.instance.audience_rules).items():
                self.initial.setdefault(name, value)

    def clean(self):
        cleaned = super().clean()
        if self.fields["segments"].disabled:  # sending started: the audience is frozen
            cleaned["audience_rules"] = self.instance.audience_rules
            return cleaned
        try:
            cleaned["audience_rules"] = self.audience_rules()
        except ValidationError as exc:
            self.add_error("other_rules" if "other_rules" in str(exc) else None, exc)
        return cleaned


class VariantForm(forms.ModelForm):
    """A variant whose templates are compiled on save: errors show at their field and line."""

    class Meta:
        model = Variant
        fields = list(authoring.VARIANT_FIELDS)

    def clean(self):
        cleaned = super().clean()
        for name in ("subject", "html_body", "text_body"):
            if cleaned.get(name) is not None and (error := template_error(cleaned[name])):
                self.add_error(name, f"Template error at {error}")
        return cleaned


class VariantInline(admin.StackedInline):
    model = Variant
    form = VariantForm
    extra = 0
    max_num = lifecycle.MAX_VARIANTS
    min_num = 1


def _disabled(field: forms.Field) -> forms.Field:
    field = copy.deepcopy(field)
    field.disabled = True
    field.help_text = "Fixed: sending has started."
    return field


def _rules_help() -> str:
    return format_html_join("", "<li><code>{}</code> {}: <code>{}</code></li>", ((c.key, c.label, json.dumps(c.schema.get("properties", {}))) for c in criteria()))


AUDIENCE_FIELDSET = ["segments", "countries", ("churn_min", "churn_max"), ("value_min", "value_max"), ("spend_min", "spend_max"), ("uplift_min", "uplift_max"), "audience_count", "other_rules", "criteria_help"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    inlines = [VariantInline]
    list_display = ["name", "status", "send_at", "recurrence", "next_run_at", "started_at", "finished_at", "ledger"]
    list_filter = ["status", "recurrence"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["status", "started_at", "finished_at", "last_batch_at", "next_run_at", "next_wave_at", "parent", "job_id", "criteria_help", "tools", "audience_count", "starter"]
    actions = ["schedule_selected", "send_now", "pause_selected", "resume_selected", "cancel_selected", draft_copy]
    fieldsets = [
        (None, {"fields": ["starter", "name", "slug", "status", "tools"]}),
        ("Audience", {"fields": AUDIENCE_FIELDSET + ["holdout_share", "seed"]}),
        ("Schedule", {"fields": ["send_at", "recurrence", "recurrence_weekday", "recurrence_time", "only_new_entrants", "throttle_per_minute"]}),
        ("Waves (adaptive variants)", {"fields": ["wave_count", "first_wave_percent", "wave_adaptive", "wave_metric", "wave_min_sample", "bandit_seed", "next_wave_at"]}),
        ("Content", {"fields": ["from_email", "offer_text", "discount_prefix", "recommendations_count", "landing_html", "conversion_window_days"]}),
        ("Progress", {"fields": ["started_at", "finished_at", "last_batch_at", "next_run_at", "parent", "job_id"]}),
    ]

    class Media:
        js = ["campaigns/audience_count.js"]

    def get_fieldsets(self, request, obj=None):
        if obj and obj.pk:
            return [(name, {**options, "fields": [f for f in options["fields"] if f != "starter"]}) for name, options in self.fieldsets]
        # a new campaign: no status, tools or progress yet
        return [(name, {**options, "fields": [f for f in options["fields"] if f not in ("status", "tools")]}) for name, options in self.fieldsets if name != "Progress"]

    def get_readonly_fields(self, request, obj=None):
        frozen = ["holdout_share", "seed", "wave_count", "first_wave_percent", "bandit_seed"] if obj and obj.started_at else []
        return self.readonly_fields + frozen

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj and obj.started_at:
            form = type("FrozenAudienceCampaignForm", (form,), {})
            form.base_fields = {name: _disabled(field) if name in AUDIENCE_FIELDS else field for name, field in form.base_fields.items()}
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        starter = STARTERS.get(request.GET.get("starter", ""))
        return {**(starter.campaign if starter else {}), **initial}

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        key = request.GET.get("starter", "")
        if isinstance(inline, VariantInline) and request.method == "GET" and key in STARTERS and not (obj and obj.pk):
            kwargs["initial"] = [starter_variant(key)]
        return kwargs

    def save_model(self, request, obj, form, change):
        """Through the services: campaign_create (variants follow in save_related) or campaign_update."""
        fields = {name: form.cleaned_data[name] for name in authoring.EDITABLE if name in form.cleaned_data}
        if change:
            authoring.campaign_update(campaign_id=obj.pk, **fields)
        else:
            created = lifecycle.campaign_create(variants=[], **fields)
            obj.pk = created.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            if formset.model is Variant:
                kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
                variants = [{"id": f.instance.pk, **{name: f.cleaned_data[name] for name in authoring.VARIANT_FIELDS}} for f in kept]
                deleted = [f.instance for f in formset.forms if f.cleaned_data.get("DELETE") and f.instance.pk]
                saved = authoring.campaign_variants_save(campaign_id=form.instance.pk, variants=variants, delete_ids=[v.pk for v in deleted])
                # what the admin's history message reads (formset.save() would have set these)
                formset.new_objects = [v for v, spec in zip(saved, variants, strict=True) if not spec["id"]]
                formset.changed_objects = [(v, f.changed_data) for v, f, spec in zip(saved, kept, variants, strict=True) if spec["id"] and f.has_changed()]
                formset.deleted_objects = deleted
        size = selectors.audience_size(rules=form.instance.audience_rules, holdout_share=float(form.instance.holdout_share))
        self.message_user(request, f"Audience now: {size['customers']:,} customers, about {size['recipients']:,} recipients after the holdout.")

    @admin.display(description="Start from")
    def starter(self, obj) -> str:
        if obj and obj.pk:
            return "-"
        links = format_html_join(" · ", '<a href="?starter={}" data-starter="{}">{}</a>', ((s.key, s.key, s.label) for s in STARTERS.values()))
        return format_html("{}<div class=\"help\">Fills the first variant and the offer; everything stays editable.</div>", links)

    @admin.display(description="Audience size")
    def audience_count(self, obj) -> str:
        saved = ""
        if obj and obj.pk:
            size = selectors.audience_size(rules=obj.audience_rules, holdout_share=float(obj.holdout_share))
            saved = format_html("Saved rules: <strong>{}</strong> customers ({} recipients after the holdout). ", f"{size['customers']:,}", f"{size['recipients']:,}")
        live = format_html('<span id="audience-count" data-url="{}" aria-live="polite"></span>', reverse("admin:campaigns_campaign_audience_count"))
        return format_html("{}{}", saved, live)

    @admin.display(description="Audience criteria")
    def criteria_help(self, obj) -> str:
        return format_html("<details><summary>All criteria (for other rules)</summary><ul>{}</ul></details>", _rules_help())

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
            path("audience-count/", self.admin_site.admin_view(self.audience_count_view), name="campaigns_campaign_audience_count"),
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

    def audience_count_view(self, request):
        """The live count of the builder: the audience fields of the form (POST) -> JSON."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = AudienceFields(request.POST)
        if not form.is_valid():
            return JsonResponse({"errors": [str(e) for errors in form.errors.values() for e in errors]}, status=400)
        try:
            rules = form.audience_rules()
            holdout = float(request.POST.get("holdout_share") or 0)
        except (ValidationError, ValueError) as exc:
            return JsonResponse({"errors": getattr(exc, "messages", [str(exc)])}, status=400)
        return JsonResponse({"rules": rules, **selectors.audience_size(rules=rules, holdout_share=min(max(holdout, 0.0), 0.9))})

    def preview_view(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        form = PreviewForm(request.POST or request.GET or None, campaign=campaign, user=request.user)
        rendered, error = None, None
        if form.is_bound and form.is_valid():
            variant, customer = form.cleaned_data["variant"], form.cleaned_data["customer"]
            if request.method == "POST":
                to = form.cleaned_data.get("send_to")
                if not to:
                    self.message_user(request, "Test send: enter the address to send the test to.", level=messages.ERROR)
                    return redirect(f"{request.path}?variant={variant.pk}&customer={form.data.get('customer', '')}")
                subject = lifecycle.campaign_test_send(campaign_id=campaign.pk, variant_id=variant.pk, customer_id=customer.pk if customer else None, to=to)
                self.message_user(request, f"Test message '{subject}' sent to {to}.")
                return redirect(f"{request.path}?variant={variant.pk}&customer={form.data.get('customer', '')}")
            try:
                rendered = message_render(campaign=campaign, variant=variant, customer=customer, delivery_id=None)
            except TemplateSyntaxError as exc:
                error = f"Variant {variant.name} does not compile: {exc}. Fix it on the campaign page."
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": campaign, "title": f"Preview: {campaign.name}",
            "form": form, "rendered": rendered, "render_error": error, "send_to": form.send_to_value(),
            "from_email": campaign.from_email or settings.DEFAULT_FROM_EMAIL,
        }
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

    def send_to_value(self) -> str:
        """The address of the test-send box: what was typed (POST), else the user's own."""
        return (self.data.get("send_to") if "send_to" in self.data else None) or self.user.email

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
class DeliveryAdmin(ReadOnlyAdmin):
    """The ledger, read only: one row per campaign and customer."""

    list_display = ["id", "campaign", "customer", "variant", "is_holdout", "status", "attempts", "sent_at", "opened_at", "clicked_at", "error_short"]
    list_filter = ["status", "is_holdout", "campaign"]
    search_fields = ["customer__email", "customer__external_id", "message_id"]
    list_select_related = ["campaign", "customer", "variant"]
    show_full_result_count = False

    @admin.display(description="Error")
    def error_short(self, obj) -> str:
        return obj.error[:80]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Staff add an address (through suppression_add) or remove one; a row is evidence, never edited."""

    list_display = ["email", "reason", "created_at", "note"]
    list_filter = ["reason"]
    search_fields = ["email"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        created, _ = tracking.suppression_add(email=obj.email, reason=obj.reason, note=obj.note)
        obj.pk = created.pk
        obj._state.adding = False


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
