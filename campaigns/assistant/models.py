"""Tables of the support assistant: versioned knowledge articles and their indexed chunks,
conversations with their messages (and the customer's thumbs), and hand-over tickets."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from customers.models import Customer, Product


class KnowledgeArticle(models.Model):
    class Language(models.TextChoices):
        EN = "en", "English"
        ZH = "zh", "Chinese"

    slug = models.SlugField(max_length=80, help_text="Shared by an article's translations.")
    language = models.CharField(max_length=2, choices=Language.choices)
    topic = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Paragraphs separated by a blank line; each becomes a retrievable passage.")
    published = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    indexed_version = models.PositiveIntegerField(default=0, help_text="The version the chunks were built from (0: not yet).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug", "language"]
        constraints = [models.UniqueConstraint(fields=["slug", "language"], name="knowledgearticle_one_per_language")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"


class KnowledgeArticleVersion(models.Model):
    article = models.ForeignKey(KnowledgeArticle, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    edited_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="knowledgeversion_unique")]

    def __str__(self) -> str:
        return f"{self.article.slug} v{self.version}"


class KnowledgeChunk(models.Model):
    """A retrievable passage of an article, or of the product catalogue (a product's facts or its
    review highlights; `source_key` says which state of the product and its reviews it was built from)."""

    article = models.ForeignKey(KnowledgeArticle, null=True, blank=True, on_delete=models.CASCADE, related_name="chunks")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE, related_name="support_chunks")
    source_key = models.CharField(max_length=80, blank=True, help_text="Product chunks: updated_at|reviews|last review id when built.")
    article_version = models.PositiveIntegerField(default=0)
    ordinal = models.PositiveIntegerField()
    language = models.CharField(max_length=2)
    text = models.TextField()
    indexed_text = models.TextField()
    embedding = models.BinaryField(null=True, blank=True, help_text="float32 L2-normalised sentence embedding.")
    embedding_model = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["article_id", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["article", "ordinal"], name="knowledgechunk_unique"),
            models.UniqueConstraint(fields=["product", "ordinal"], name="knowledgechunk_product_unique"),
            models.CheckConstraint(
                condition=models.Q(article__isnull=False, product__isnull=True) | models.Q(article__isnull=True, product__isnull=False),
                name="knowledgechunk_one_source",
            ),
        ]
        indexes = [models.Index(fields=["language"], name="knowledgechunk_language")]

    def __str__(self) -> str:
        return f"{self.article.slug if self.article_id else 'product ' + str(self.product_id)}#{self.ordinal}"


class Conversation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="support_conversations")
    language = models.CharField(max_length=2, default="en")
    failures = models.PositiveIntegerField(default=0, help_text="Replies in a row that found no answer.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Conversation {self.public_id} ({'customer ' + str(self.customer_id) if self.customer_id else 'anonymous'})"


class ChatMessage(models.Model):
    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        ASSISTANT = "assistant", "Assistant"
        STAFF = "staff", "Staff"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    intent = models.CharField(max_length=20, blank=True)
    method = models.CharField(max_length=20, blank=True, help_text="How the reply was made: llm, extractive, tool, refusal, handover...")
    citations = models.JSONField(default=list, blank=True, help_text="[{article_id, slug, title}] of the passages used.")
    supported_share = models.FloatField(null=True, blank=True)
    sentiment = models.FloatField(null=True, blank=True, help_text="P(positive) of a customer message.")
    rating = models.SmallIntegerField(null=True, blank=True, help_text="Customer thumbs: 1 up, -1 down.")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="supportmessage_conv_created")]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"


class Ticket(models.Model):
    class Reason(models.TextChoices):
        COMPLAINT = "complaint", "Complaint"
        NEGATIVE = "negative", "Negative message"
        FAILURE = "failure", "Repeated failure to answer"
        REQUEST = "request", "Asked for a person"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="tickets")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    customer_context = models.JSONField(default=dict, blank=True, help_text="Segment, churn risk, value, recent orders when opened.")
    staff_reply = models.TextField(blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    replied_at = models.DateTimeField(null=True, blank=True)
    reply_emailed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["conversation"], condition=models.Q(status="open"), name="ticket_one_open_per_conversation"),
        ]

    def __str__(self) -> str:
        return f"Ticket {self.pk} ({self.get_reason_display()}, {self.status})"
