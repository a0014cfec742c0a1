import pytest
from django.db import connection

from customers.models import Customer, Order, OrderLine, Product


def shop_snapshot() -> dict:
    """Everything an import writes, by natural keys (ids differ between runs)."""
    return {
        "customers": sorted(Customer.objects.values_list("external_id", "country", "first_seen", "email")),
        "products": sorted((sku, title, kind, price, tuple(other)) for sku, title, kind, price, other
                           in Product.objects.values_list("sku", "title", "kind", "price", "other_titles")),
        "orders": sorted(Order.objects.values_list("external_id", "customer__external_id", "placed_at", "status", "total", "currency", "country")),
        "lines": sorted(OrderLine.objects.values_list("source_key", "order__external_id", "line_no", "product__sku", "quantity",
                                                      "unit_price", "returned_line__source_key")),
    }


def shop_is_empty() -> bool:
    return not (Customer.objects.exists() or Product.objects.exists() or Order.objects.exists() or OrderLine.objects.exists())


BACKENDS = [
    "batched",
    pytest.param("copy", marks=pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY path needs PostgreSQL (set DATABASE_URL)")),
]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param
