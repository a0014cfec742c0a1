"""A small shop in the database for the recommender's service, API, admin and task tests."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from customers.models import Product
from tests.customers.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

CATEGORIES = ["Mugs", "Mugs", "Mugs", "Bags", "Bags", "Candles", "Candles", "Cards"]


def make_shop() -> dict:
    """12 customers buying 8 products over 300 days, plus a fee and an inactive product they also bought."""
    products = [ProductFactory(sku=f"SKU{i}", title=f"{c[:-1]} model {i}", category=c, price=Decimal("3.50")) for i, c in enumerate(CATEGORIES)]
    fee = ProductFactory(sku="POST", title="Postage", kind=Product.Kind.FEE)
    inactive = ProductFactory(sku="OLD1", title="Discontinued mug", category="Mugs", active=False)
    now = timezone.now()
    customers = []
    for n in range(12):
        customer = CustomerFactory(external_id=f"EXT{n}", country="France" if n >= 9 else "United Kingdom")
        customers.append(customer)
        for k in range(5):
            order = OrderFactory(customer=customer, placed_at=now - dt.timedelta(days=300 - 60 * k - n))
            basket = {products[n % 4], products[(n + k) % 8], fee, inactive}
            for line_no, product in enumerate(basket, start=1):
                OrderLineFactory(order=order, line_no=line_no, product=product)
    recent = OrderFactory(customer=customers[0], placed_at=now - dt.timedelta(days=2))
    OrderLineFactory(order=recent, line_no=1, product=products[6])
    return {"products": products, "fee": fee, "inactive": inactive, "customers": customers}
