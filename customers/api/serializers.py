from rest_framework import serializers

from customers.api.scopes import Scope, has_scope
from customers.models import (
    AMOUNT_DIGITS,
    AMOUNT_PLACES,
    PRICE_DIGITS,
    PRICE_PLACES,
    Customer,
    Order,
    OrderLine,
    Product,
    Review,
)
from customers.money import decimal_text
from customers.privacy.audit import PiiReadSerializerMixin


class StoredDecimalField(serializers.DecimalField):
    """A price or amount as stored, without the padding zeros of its column (1.85, 0.002859375)."""

    def to_representation(self, value):
        return decimal_text(value)


def _price(**kwargs) -> StoredDecimalField:
    return StoredDecimalField(max_digits=PRICE_DIGITS, decimal_places=PRICE_PLACES, read_only=True, **kwargs)


def mask_email(email: str) -> str:
    """jane.doe@example.com -> j***@example.com: enough to tell addresses apart, not to write to."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}***{at}{domain}" if email else ""


def mask_name(name: str) -> str:
    """Jane Doe -> J. D."""
    return " ".join(f"{part[0]}." for part in name.split()) if name else ""


class _MaskedCustomerSerializer(serializers.ModelSerializer):
    """Emails and names are masked unless the credential holds read:pii."""

    order_count = serializers.IntegerField(read_only=True)
    last_order_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = [
            "id", "external_id", "email", "name", "country", "first_seen",
            "email_consent", "email_consent_at", "email_consent_source", "order_count", "last_order_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not has_scope(request, Scope.READ_PII):
            data["email"], data["name"] = mask_email(data["email"]), mask_name(data["name"])
        return data


class CustomerSerializer(PiiReadSerializerMixin, _MaskedCustomerSerializer):
    """The mixin sees the masked representation, so only PII actually shown is logged as read."""


class ProductSerializer(serializers.ModelSerializer):
    price = _price(allow_null=True)

    class Meta:
        model = Product
        fields = ["id", "sku", "title", "description", "category", "price", "kind", "active", "image_url", "url", "attributes"]


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    unit_price = _price()

    class Meta:
        model = OrderLine
        fields = ["line_no", "sku", "quantity", "unit_price", "returned_line"]


class OrderSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="external_id", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    total = StoredDecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "external_id", "customer", "placed_at", "status", "currency", "total", "country", "lines"]


class ReviewSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", read_only=True)
    customer = serializers.SlugRelatedField(slug_field="external_id", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "external_id", "product", "customer", "rating", "label", "title", "text", "language", "created_at"]
