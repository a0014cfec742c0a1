from rest_framework import serializers

from mlcore.models import CustomerScore


class CustomerScoreSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    model_version = serializers.CharField(source="model_version.label", read_only=True, help_text='kind:version, e.g. "churn:3".')

    class Meta:
        model = CustomerScore
        fields = [
            "id", "customer", "model_version", "churn_probability", "reason", "probability_active",
            "expected_purchases_30", "expected_purchases_90", "expected_purchases_365", "expected_value_12m",
            "expected_value_12m_low", "expected_value_12m_high", "value_reason", "scored_at",
        ]


class AtRiskQuerySerializer(serializers.Serializer):
    churn_min = serializers.FloatField(required=False, default=None, allow_null=True, min_value=0.0, max_value=1.0)  # None: the shop's threshold
    min_value = serializers.FloatField(required=False, allow_null=True, default=None)
    segment = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
