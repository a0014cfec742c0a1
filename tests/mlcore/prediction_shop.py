"""A small generated shop written to the database, for the predictions tests."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from customers.models import Customer, Order, OrderLine, Product
from mlcore.ml.synthetic import SyntheticConfig, generate_order_lines


def shop_lines(n_customers: int = 400, seed: int = 3) -> pd.DataFrame:
    return generate_order_lines(SyntheticConfig(n_customers=n_customers, n_products=60, horizon_days=540, seed=seed))


def shop_create(lines: pd.DataFrame) -> None:
    """Customers, products, orders and lines of a generated frame (ids kept)."""
    customers = lines.groupby("customer_id")["country"].first()
    Customer.objects.bulk_create([Customer(id=int(cid), external_id=f"G{cid}", country=country) for cid, country in customers.items()])
    products = lines.groupby("product_id")["unit_price"].first()
    Product.objects.bulk_create([Product(id=int(pid), sku=f"P{pid}", title=f"Product {pid}", price=Decimal(f"{price:.2f}")) for pid, price in products.items()])
    orders = lines.groupby("order_id").agg(customer_id=("customer_id", "first"), placed_at=("placed_at", "min"), status=("status", "first"))
    Order.objects.bulk_create([
        Order(id=int(oid), external_id=f"O{oid}", customer_id=int(row.customer_id), placed_at=row.placed_at.floor("s").to_pydatetime(), status=row.status)
        for oid, row in orders.iterrows()
    ])
    numbered = lines.assign(line_no=lines.groupby("order_id").cumcount() + 1)
    OrderLine.objects.bulk_create([
        OrderLine(order_id=int(r.order_id), line_no=int(r.line_no), product_id=int(r.product_id), quantity=int(r.quantity), unit_price=Decimal(f"{r.unit_price:.2f}"))
        for r in numbered.itertuples()
    ], batch_size=2000)
