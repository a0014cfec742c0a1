"""Read endpoints of the shop's data. Customers are addressed by external id, products by SKU."""
from django.db.models import Prefetch
from rest_framework import viewsets

from customers import selectors
from customers.api import filters, serializers
from customers.api.scopes import Scope
from customers.models import Order, OrderLine, Product, Review


class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = Scope.READ_CUSTOMERS
    serializer_class = serializers.CustomerSerializer
    filterset_class = filters.CustomerFilter
    lookup_field = "external_id"
    ordering_fields = ["id", "external_id", "first_seen"]
    ordering = ["-id"]

    def get_queryset(self):
        return selectors.customer_list_with_totals()


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = Scope.READ_ORDERS
    queryset = Product.objects.all()
    serializer_class = serializers.ProductSerializer
    filterset_class = filters.ProductFilter
    lookup_field = "sku"
    ordering_fields = ["id", "sku", "price"]
    ordering = ["-id"]


class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = Scope.READ_ORDERS
    serializer_class = serializers.OrderSerializer
    filterset_class = filters.OrderFilter
    lookup_field = "external_id"
    ordering_fields = ["id", "placed_at", "total"]
    ordering = ["-id"]

    def get_queryset(self):
        lines = OrderLine.objects.select_related("product").order_by("line_no")
        return Order.objects.select_related("customer").prefetch_related(Prefetch("lines", queryset=lines))


class ReviewViewSet(viewsets.ReadOnlyModelViewSet):
    required_scopes = Scope.READ_REVIEWS
    queryset = Review.objects.select_related("product", "customer")
    serializer_class = serializers.ReviewSerializer
    filterset_class = filters.ReviewFilter
    ordering_fields = ["id", "created_at", "rating"]
    ordering = ["-id"]
