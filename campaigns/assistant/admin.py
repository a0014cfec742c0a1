"""Admin of the support assistant: knowledge articles (each save a new version, re-indexed on
commit), the conversation log with the customers' thumbs, and hand-over tickets with the
customer's context and a reply box that answers in the chat and by email."""
from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from campaigns.assistant.models import ChatMessage, Conversation, KnowledgeArticle, KnowledgeArticleVersion, Ticket
from campaigns.assistant.services.handover import ticket_reply, ticket_status_set
from campaigns.assistant.services.knowledge import knowledge_article_save


class KnowledgeArticleVersionInline(admin.TabularInline):
    model = KnowledgeArticleVersion
    fields = ["version", "title", "edited_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "language", "topic", "version", "indexed_version", "published", "updated_at"]
    list_filter = ["language", "topic", "published"]
    search_fields = ["title", "body", "slug"]
    fields = ["slug", "language", "topic", "title", "body", "published", "version", "indexed_version"]
    readonly_fields = ["version", "indexed_version"]
    inlines = [KnowledgeArticleVersionInline]

    def save_model(self, request, obj, form, change):
        saved = knowledge_article_save(
            slug=obj.slug, language=obj.language, title=obj.title, body=obj.body, topic=obj.topic, published=obj.published,
            edited_by=request.user.get_username(),
        )
        obj.pk, obj.version = saved.pk, saved.version


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    fields = ["created_at", "role", "text", "intent", "method", "citations", "supported_share", "sentiment", "rating", "latency_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["public_id", "customer", "language", "created_at", "updated_at", "thumbs"]
    list_filter = ["language"]
    readonly_fields = ["public_id", "customer", "language", "failures", "created_at"]
    fields = readonly_fields
    inlines = [ChatMessageInline]
    list_select_related = ["customer"]

    def thumbs(self, obj) -> str:
        ratings = [m.rating for m in obj.messages.all() if m.rating]
        return f"+{ratings.count(1)} / -{ratings.count(-1)}"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("messages")

    def has_add_permission(self, request) -> bool:
        return False


class TicketForm(forms.ModelForm):
    reply = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, help_text="Sent to the customer in the chat and by email.")

    class Meta:
        model = Ticket
        fields = ["status"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketForm
    list_display = ["pk", "reason", "status", "conversation", "created_at", "replied_at"]
    list_filter = ["status", "reason"]
    readonly_fields = ["conversation_link", "reason", "context", "transcript", "staff_reply", "replied_by", "replied_at", "reply_emailed", "created_at"]
    fields = ["status", "reply", *readonly_fields]

    def conversation_link(self, obj):
        return format_html('<a href="../../../conversation/{}/change/">{}</a>', obj.conversation_id, obj.conversation)

    def context(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.customer_context, indent=2, ensure_ascii=False))

    def transcript(self, obj):
        lines = [f"[{m.role}] {m.text}" for m in obj.conversation.messages.all()]
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", "\n".join(lines))

    def save_model(self, request, obj, form, change):
        reply = form.cleaned_data.get("reply", "").strip()
        if reply:
            ticket = ticket_reply(ticket_id=obj.pk, text=reply, user_id=request.user.pk)
            note = "emailed and posted in the chat" if ticket.reply_emailed else "posted in the chat (no email address)"
            messages.success(request, f"Reply {note}.")
        elif "status" in form.changed_data:
            ticket_status_set(ticket_id=obj.pk, status=form.cleaned_data["status"])

    def has_add_permission(self, request) -> bool:
        return False
