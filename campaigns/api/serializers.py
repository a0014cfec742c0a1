"""Serializers of the campaigns API."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers

from campaigns.audience import audience_rules_validate
from campaigns.models import Campaign, Variant
from campaigns.rendering import template_error


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variant
        fields = ["id", "name", "share", "subject", "html_body", "text_body"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        errors = {name: f"template error at {error}" for name in ("subject", "html_body", "text_body") if (error := template_error(attrs.get(name, "")))}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CampaignSerializer(serializers.ModelSerializer):
    variants = VariantSerializer(many=True)

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "slug", "status", "audience_rules", "holdout_share", "seed", "send_at", "recurrence", "recurrence_weekday",
            "recurrence_time", "only_new_entrants", "throttle_per_minute", "conversion_window_days", "discount_prefix", "offer_text",
            "recommendations_count", "from_email", "landing_html", "started_at", "finished_at", "next_run_at", "parent", "variants",
            "wave_count", "first_wave_percent", "wave_adaptive", "wave_metric", "wave_min_sample", "bandit_seed", "next_wave_at",
        ]
        read_only_fields = ["id", "status", "started_at", "finished_at", "next_run_at", "parent", "next_wave_at"]

    def validate_audience_rules(self, value):
        """Unknown criteria and names the shop does not hold are refused, listing the valid ones."""
        try:
            return audience_rules_validate(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class ScheduleSerializer(serializers.Serializer):
    send_at = serializers.DateTimeField(required=False, allow_null=True)


class BounceSerializer(serializers.Serializer):
    email = serializers.EmailField()
    hard = serializers.BooleanField(default=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
