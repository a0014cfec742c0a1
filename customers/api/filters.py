import django_filters

from customers.api.conventions import SafeIsoDateTimeFilter, StrictFilterSet
from customers.models import Customer, Order, Product, Review


class CustomerFilter(StrictFilterSet):
    country = django_filters.CharFilter(lookup_expr="iexact")
    first_seen_after = SafeIsoDateTimeFilter(field_name="first_seen", lookup_expr="gte")
    first_seen_before = SafeIsoDateTimeFilter(field_name="first_seen", lookup_expr="lt")

    class Meta:
        model = Customer
        fields = ["country", "email_consent"]


class ProductFilter(StrictFilterSet):
    category = django_filters.CharFilter(lookup_expr="iexact")
    title = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Product
        fields = ["category", "kind", "active"]


class OrderFilter(StrictFilterSet):
    customer = django_filters.CharFilter(field_name="customer__external_id")
    placed_after = SafeIsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = SafeIsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "currency", "country"]


class ReviewFilter(StrictFilterSet):
    product = django_filters.CharFilter(field_name="product__sku")
    customer = django_filters.CharFilter(field_name="customer__external_id")
    rating_min = django_filters.NumberFilter(field_name="rating", lookup_expr="gte")
    rating_max = django_filters.NumberFilter(field_name="rating", lookup_expr="lte")

    class Meta:
        model = Review
        fields = ["rating", "language"]
