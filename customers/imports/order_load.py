"""Loading clean order frames: customers, products, orders, sale lines, then return lines.

Parents go first so children can carry their ids; sale lines before return lines so a return
can point at the sale it undoes. A new order is inserted with its file's total; totals are then
recomputed from the stored lines at the end, which keeps them right when two files each hold part
of an invoice, and rewrites only the orders whose total changed (an order inserted at 0 was
written a second time by it: 26 s of a 245 s 200,000-customer import, docs/scale.md).
"""
from __future__ import annotations

import pandas as pd
from django.db import connection
from django.db.models import Max

from customers.imports.loading import KEY_CHUNK, Progress, TableLoad, key_rows, table_load
from customers.imports.orders import OrderFrames
from customers.imports.report import ImportReport
from customers.models import Customer, Order, OrderLine, Product


def load_orders(frames: OrderFrames, report: ImportReport, *, progress: Progress | None = None, backend: str | None = None) -> None:
    def load(spec: TableLoad, table: str) -> None:
        table_load(spec, report.table(table), progress=progress, backend=backend)

    customers = frames.customers
    load(TableLoad(Customer, "external_id", customers, ("country", "first_seen"), least=("first_seen",), keep_existing=("country",)), "customers")
    # An order file never blanks what a catalogue file set: a missing title, category, price or
    # attributes keeps the stored one, and kind takes the LEAST of old and new ('fee' < 'product'),
    # so a fee marked by a products file stays a fee under an order file without fee rules.
    products = _titled(frames.products)
    load(TableLoad(Product, "sku", products, ("title", "other_titles", "kind", "price", "category", "attributes"), least=("kind",),
                   keep_if_missing=("title", "other_titles", "price", "category", "attributes")), "products")
    customer_ids = _id_map(Customer, "external_id", list(customers["external_id"]))
    product_ids = _id_map(Product, "sku", list(frames.products["sku"]))
    orders = frames.orders.assign(customer_id=frames.orders["customer_ext"].map(customer_ids))
    order_fields = ("customer_id", "placed_at", "status", "currency", "country")
    load(TableLoad(Order, "external_id", orders, order_fields, least=("placed_at",), insert_only=("total",)), "orders")
    order_ids = _id_map(Order, "external_id", list(orders["external_id"]))
    lines = frames.lines.assign(order_id=frames.lines["order_ext"].map(order_ids), product_id=frames.lines["sku"].map(product_ids))
    lines["line_no"] = _line_numbers(lines)
    line_fields = ("order_id", "product_id", "quantity", "unit_price")
    loaded = ["source_key", *line_fields, "line_no"]  # the load reads these only: narrower copies at a big import's peak
    sales, returns = lines.loc[lines["quantity"] > 0, loaded], lines.loc[lines["quantity"] < 0, [*loaded, "returned_key"]].copy()
    load(TableLoad(OrderLine, "source_key", sales, line_fields, insert_only=("line_no",)), "order_lines")
    sale_ids = _id_map(OrderLine, "source_key", list(returns["returned_key"].dropna().unique()))
    returns["returned_line_id"] = returns["returned_key"].map(sale_ids)
    load(TableLoad(OrderLine, "source_key", returns, (*line_fields, "returned_line_id"), insert_only=("line_no",)), "order_lines")
    # Totals are derived from the stored lines, not part of the order comparison above.
    report.figures["order_totals_set"] = order_totals_refresh(order_ids=list(order_ids.values()))


def _titled(products: pd.DataFrame) -> pd.DataFrame:
    """A new product whose file gave no description is titled by its SKU; a stored one keeps its title."""
    untitled = products["title"] == ""
    if not untitled.any():
        return products
    stored = set(_id_map(Product, "sku", list(products.loc[untitled, "sku"])))
    new = untitled & ~products["sku"].isin(stored)
    return products.assign(title=products["title"].where(~new, products["sku"]))


def _id_map(model, key: str, values: list) -> dict:
    return dict(key_rows(model, key, values, [key, "id"]))


def _line_numbers(lines: pd.DataFrame) -> pd.Series:
    """Lines already stored keep their number; new ones follow the order's highest, in file order."""
    order_ids = [int(i) for i in lines["order_id"].unique()]
    known, highest = set(), {}
    if OrderLine.objects.exists():
        known = {key for (key,) in key_rows(OrderLine, "order_id", order_ids, ["source_key"])}
        highest = _highest_line_numbers(order_ids)
    new = ~lines["source_key"].isin(known)
    numbers = pd.Series(0, index=lines.index, dtype="int64")
    new_orders = lines.loc[new, "order_id"]
    offset = new_orders.map(highest).fillna(0).astype("int64")
    numbers[new] = offset + new_orders.groupby(new_orders).cumcount() + 1
    return numbers


def _highest_line_numbers(order_ids: list[int]) -> dict[int, int]:
    """Each order's highest stored line number: one GROUP BY over `= ANY` of one array on PostgreSQL
    (27 chunked queries took 1.9 s of a repeated Online Retail import), chunks of KEY_CHUNK elsewhere."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT order_id, MAX(line_no) FROM {connection.ops.quote_name(OrderLine._meta.db_table)} "
                           "WHERE order_id = ANY(%s::bigint[]) GROUP BY order_id", [order_ids])
            return dict(cursor.fetchall())
    highest = {}
    for start in range(0, len(order_ids), KEY_CHUNK):
        chunk = OrderLine.objects.filter(order_id__in=order_ids[start:start + KEY_CHUNK])
        highest.update(chunk.values("order_id").annotate(top=Max("line_no")).values_list("order_id", "top"))
    return highest


def order_totals_refresh(*, order_ids: list[int]) -> int:
    """Set each order's total to the sum of its stored lines where it differs; returns rows changed.

    One set-based UPDATE ... FROM an aggregate: on PostgreSQL over every order at once (`= ANY` of
    one array: two scans and a hash join; chunks of IN lists made the planner scan the order table
    once per chunk, about 50 minutes for the 4.8M orders of a million-customer shop), elsewhere per
    chunk of KEY_CHUNK orders (SQLite's limit on parameters; SQLite >= 3.33)."""
    q = connection.ops.quote_name
    order, line = q(Order._meta.db_table), q(OrderLine._meta.db_table)
    postgres = connection.vendor == "postgresql"
    chunks = [order_ids] if postgres else [order_ids[s:s + KEY_CHUNK] for s in range(0, len(order_ids), KEY_CHUNK)]
    changed = 0
    with connection.cursor() as cursor:
        for chunk in chunks:
            if not chunk:
                continue
            where, params = ("order_id = ANY(%s)", [list(chunk)]) if postgres else (f"order_id IN ({', '.join(['%s'] * len(chunk))})", chunk)
            cursor.execute(
                f"UPDATE {order} SET total = s.t FROM (SELECT order_id, ROUND(SUM(quantity * unit_price), 4) AS t FROM {line} "
                f"WHERE {where} GROUP BY order_id) AS s WHERE {order}.id = s.order_id AND {order}.total <> s.t",
                params,
            )
            changed += max(cursor.rowcount, 0)
    return changed
