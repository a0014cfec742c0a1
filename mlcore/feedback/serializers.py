"""Serializers of the review-sentiment endpoints (stored review sentiment, partner text scoring)."""
from __future__ import annotations

from rest_framework import serializers

from mlcore.models import ModelVersion
from mlcore.registry.models import version_label

MAX_TEXTS = 100
MAX_TEXT_CHARS = 5000


class SentimentRequestSerializer(serializers.Serializer):
    texts = serializers.ListField(
        child=serializers.CharField(allow_blank=False, trim_whitespace=True, max_length=MAX_TEXT_CHARS),
        allow_empty=False, max_length=MAX_TEXTS,
        help_text=f"1 to {MAX_TEXTS} texts of at most {MAX_TEXT_CHARS} characters each.",
    )
    language = serializers.RegexField(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$", max_length=8, required=False,
                                      help_text="Skip detection: all texts are in this language (en, zh, or any code: "
                                                "other languages are scored by the multilingual encoder).")


class ModelVersionLabelField(serializers.CharField):
    """A model version id shown as the API's `model_version` everywhere: "kind:version" (e.g. "sentiment_en:3")."""

    def __init__(self, **kwargs):
        super().__init__(source="model_version_id", read_only=True, allow_null=True,
                         help_text='kind:version of the model that scored it, e.g. "sentiment_en:3"; null: the zero-shot fallback', **kwargs)

    def to_representation(self, value):
        labels = self.context.setdefault("model_version_labels", {})  # one query per version in a response
        if value not in labels:
            row = ModelVersion.objects.filter(pk=value).values_list("kind", "version").first()
            labels[value] = version_label(*row) if row else None
        return labels[value]

class TextSentimentSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="-1 (negative) .. +1 (positive)")
    p_positive = serializers.FloatField()
    label = serializers.CharField()
    language = serializers.CharField()
    method = serializers.CharField(help_text="model, or fallback (zero-shot, before any model is trained)")
    model_version = ModelVersionLabelField()
    model_method = serializers.CharField()
    multilingual = serializers.BooleanField(help_text="Scored by the multilingual encoder: a language without a model of its own")


class SentimentResponseSerializer(serializers.Serializer):
    results = TextSentimentSerializer(many=True)


class AspectSerializer(serializers.Serializer):
    aspect = serializers.CharField()
    score = serializers.FloatField()
    label = serializers.CharField()


class ReviewSentimentSerializer(serializers.Serializer):
    review_id = serializers.IntegerField()
    stored = serializers.BooleanField(help_text="False: not scored yet, scored now and not stored")
    score = serializers.FloatField()
    label = serializers.CharField()
    language = serializers.CharField()
    method = serializers.CharField()
    model_version = ModelVersionLabelField()
    scored_at = serializers.DateTimeField(allow_null=True)
    aspects = AspectSerializer(many=True)
    multilingual = serializers.BooleanField(help_text="Scored by the multilingual encoder: a language without a model of its own")
