"""Admin of API keys: create (the full key is shown once), list, revoke. Keys are never edited:
revoke one and create another. Imported by customers.admin."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from customers.api.keys import api_key_create, api_key_revoke
from customers.api.scopes import Scope
from customers.models import ApiKey


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scope_list", "expires_at", "last_used_at", "revoked_at", "created_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    readonly_fields = ["name", "prefix", "scopes", "expires_at", "last_used_at", "revoked_at", "created_at"]

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes) or "-"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["name", "scopes", "expires_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only once created
        key, full = api_key_create(name=obj.name, scopes=form.cleaned_data["scopes"], expires_at=obj.expires_at)
        obj.pk = key.pk  # the admin's redirect and log entry point at the created row
        messages.warning(request, f"The API key for {key.name} is {full} - copy it now: it is not stored and will not be shown again.")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        count = api_key_revoke(key_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} key(s) revoked.")
