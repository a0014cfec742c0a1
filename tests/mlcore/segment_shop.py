"""A small shop in the database with clearly different kinds of customer, for segmentation tests."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from customers.models import Customer, Order, OrderLine, Product

SNAPSHOT = dt.datetime(2011, 12, 10, tzinfo=dt.UTC)
# (how many customers, orders each, days between orders, days before the snapshot of the last order, price)
KINDS = {
    "best": (8, 12, 20, 3, Decimal("60.00")),
    "lapsed": (8, 6, 30, 300, Decimal("40.00")),
    "new": (8, 1, 1, 5, Decimal("8.00")),
    "gone": (8, 1, 1, 330, Decimal("5.00")),
}


def make_shop(snapshot: dt.datetime = SNAPSHOT) -> dict[str, list[int]]:
    """Customers of each kind with their orders (bulk-created: a few hundred rows); ids by kind."""
    product = Product.objects.create(sku="P1", title="Mug", category="Kitchen")
    ids: dict[str, list[int]] = {}
    orders, line_specs = [], []
    for kind, (count, n_orders, gap, last_days, price) in KINDS.items():
        customers = Customer.objects.bulk_create([Customer(external_id=f"{kind}-{i}") for i in range(count)])
        ids[kind] = [c.pk for c in customers]
        for c in customers:
            for j in range(n_orders):
                placed = snapshot - dt.timedelta(days=last_days + j * gap, hours=c.pk % 5)
                orders.append(Order(external_id=f"{c.external_id}-o{j}", customer=c, placed_at=placed))
                line_specs.append(price)
    orders = Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(
        [OrderLine(order=o, line_no=1, product=product, quantity=2, unit_price=p) for o, p in zip(orders, line_specs, strict=True)]
    )
    return ids
