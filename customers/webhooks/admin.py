"""Admin of webhooks: subscriptions (create, pause, resume) and the read-only delivery log."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from customers.readonly_admin import ReadOnlyAdmin
from customers.webhooks import services
from customers.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription


class SubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)
    secret = forms.CharField(required=False, help_text="Leave empty to generate one (shown once after saving).")

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events", "secret"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            services.webhook_url_validate(url)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "url", "event_list", "is_active", "consecutive_failures", "paused_reason", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    actions = ["pause", "resume"]

    def get_fields(self, request, obj=None):
        return ["name", "url", "events"] + ([] if obj else ["secret"])

    def get_readonly_fields(self, request, obj=None):
        return ["is_active", "consecutive_failures", "paused_reason"] if obj else []

    def get_fieldsets(self, request, obj=None):
        fields = self.get_fields(request, obj) + list(self.get_readonly_fields(request, obj))
        return [(None, {"fields": fields})]

    @admin.display(description="events")
    def event_list(self, obj) -> str:
        return ", ".join(obj.events)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.webhook_subscription_update(subscription_id=obj.pk, name=data["name"], url=data["url"], events=data["events"])
            return
        created = services.webhook_subscription_create(name=data["name"], url=data["url"], events=data["events"], secret=data.get("secret", ""))
        obj.pk = created.pk
        if not data.get("secret"):
            self.message_user(request, f"Signing secret (shown once, give it to the partner): {created.secret}", messages.WARNING)

    @admin.action(description="Pause the selected subscriptions")
    def pause(self, request, queryset):
        done = sum(services.webhook_subscription_pause(subscription_id=pk, reason=f"paused by {request.user}") for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} subscriptions paused.")

    @admin.action(description="Resume the selected subscriptions")
    def resume(self, request, queryset):
        done = sum(services.webhook_subscription_resume(subscription_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} subscriptions resumed.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "subscription", "status", "attempts", "response_code", "last_attempt_at", "next_attempt_at"]
    list_filter = ["status", "event"]
    search_fields = ["event_id", "subscription__name", "last_error"]
    date_hierarchy = "created_at"
    list_select_related = ["subscription"]
    actions = ["redeliver"]
    show_full_result_count = False

    @admin.action(description="Redeliver the selected deliveries", permissions=["view"])
    def redeliver(self, request, queryset):
        count = services.webhook_redeliver(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} deliveries queued again.")
