"""Admin of drafted copy: the brand voice (one row), the drafts with their verdicts, and the
approval of proposed drafts into a campaign variant (an action with the variant's name)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from campaigns.copywriting.brief import brand_voice_get
from campaigns.copywriting.models import BrandVoice, CopyDraft
from campaigns.copywriting.services import copy_draft_approve, copy_drafts_request

DRAFTS_PER_REQUEST = 10


@admin.register(BrandVoice)
class BrandVoiceAdmin(admin.ModelAdmin):
    fields = ["tone", "banned_words", "banned_claims", "max_discount_percent", "subject_max_chars", "body_max_chars", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        """One voice: the list opens its page (made with the defaults the first time)."""
        return redirect(reverse("admin:campaigns_brandvoice_change", args=[brand_voice_get().pk]))


class ApproveForm(ActionForm):
    variant = forms.CharField(max_length=20, required=False, initial="C", help_text="Variant to write the draft into (made if missing).")


@admin.register(CopyDraft)
class CopyDraftAdmin(admin.ModelAdmin):
    action_form = ApproveForm
    actions = ["approve_into_variant"]
    list_display = ["id", "campaign", "kind", "status", "short_text", "reasons", "model_name", "prompt_version", "created_at"]
    list_filter = ["status", "kind", "prompt_version", "campaign"]
    search_fields = ["text"]
    readonly_fields = ["campaign", "kind", "text", "model_name", "prompt_version", "status", "refusal_reasons", "variant", "approved_by", "approved_at", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # drafts change only through approval

    @admin.display(description="Text")
    def short_text(self, obj: CopyDraft) -> str:
        return obj.text if len(obj.text) <= 120 else obj.text[:117] + "..."

    @admin.display(description="Refused because")
    def reasons(self, obj: CopyDraft) -> str:
        return "; ".join(obj.refusal_reasons)

    @admin.action(description="Approve the selected drafts into the variant named below")
    def approve_into_variant(self, request, queryset):
        name = request.POST.get("variant", "")
        for draft_id in queryset.values_list("pk", flat=True):
            try:
                variant = copy_draft_approve(draft_id=draft_id, variant_name=name, user=request.user)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"Draft {draft_id}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}", messages.ERROR)
            else:
                self.message_user(request, f"Draft {draft_id} approved into variant {variant.name} of campaign {variant.campaign_id}.", messages.SUCCESS)


@admin.action(description="Draft copy with the language model (queued; see Copy drafts)")
def draft_copy(modeladmin, request, queryset):
    """Campaign action: queue DRAFTS_PER_REQUEST drafts for each selected campaign."""
    for campaign_id in queryset.values_list("pk", flat=True):
        job_id, created = copy_drafts_request(campaign_id=campaign_id, n=DRAFTS_PER_REQUEST, requested_by=str(request.user))
        note = "queued" if created else "already running"
        modeladmin.message_user(request, f"Campaign {campaign_id}: copy drafting {note} (job {job_id}).", messages.INFO)
