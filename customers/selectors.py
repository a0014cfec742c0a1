"""Reads of the shop's data that other apps and entrypoints use.

Large reads return DataFrames built straight from value rows (no per-row model objects).
The frames that feed features, models and recommenders leave out erased customers (GDPR), so
no training set or nightly score holds them again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
from django.db.models import Avg, Count, Max, Min, QuerySet, Sum
from django.db.models.functions import TruncDate

from customers.models import LINE_AMOUNT, Customer, Order, OrderLine, Product, Review
from infra.bulk import query_frame


@dataclass(frozen=True)
class CustomerSummary:
    customer_id: int
    orders: int
    net_spent: Decimal
    last_order_at: datetime | None


def customer_summary(*, customer_id: int) -> CustomerSummary:
    agg = Order.objects.purchases().filter(customer_id=customer_id).aggregate(n=Count("id"), last=Max("placed_at"))
    spent = OrderLine.objects.net().filter(order__customer_id=customer_id).aggregate(total=Sum(LINE_AMOUNT))["total"]
    return CustomerSummary(
        customer_id=customer_id,
        orders=agg["n"] or 0,
        net_spent=spent or Decimal("0"),
        last_order_at=agg["last"],
    )


def customer_list_with_totals() -> QuerySet[Customer]:
    """Customers annotated with order count, net spend and last order (admin and API lists)."""
    return Customer.objects.annotate(
        order_count=Count("orders", distinct=True),
        last_order_at=Max("orders__placed_at"),
    )


def customer_id_map(*, external_ids: list[str] | None = None) -> dict[str, int]:
    qs = Customer.objects.all()
    if external_ids is not None:
        qs = qs.filter(external_id__in=external_ids)
    return dict(qs.values_list("external_id", "id"))


def _shop_lines(*, until: datetime | None = None, with_guests: bool = False) -> QuerySet[OrderLine]:
    # NOT IN over the (few, indexed) erased ids instead of joining every line to its customer.
    qs = OrderLine.objects.exclude(order__customer_id__in=Customer.objects.exclude(erased_at=None).values("pk"))
    if not with_guests:
        qs = qs.filter(order__customer__isnull=False)
    return qs.filter(order__placed_at__lt=until) if until is not None else qs


# A shard's lines (customers in an id range) are a few per cent of the table, scattered through it
# (lines follow time, not customers). PostgreSQL's default plan hashes the range's orders and scans
# every line of the shop for each shard: at 1M customers 3.6 s of the 50,000-customer shard's read,
# 20 full scans a night. Joined through the lines' order_id index (nested loops) with the sort in
# memory: 0.9 s (docs/scale.md).
SHARD_READ_PLANNER = {"enable_hashjoin": "off", "enable_mergejoin": "off", "work_mem": "64MB"}


def order_lines_frame(*, until: datetime | None = None, since: datetime | None = None, with_guests: bool = False,
                      first_id: int | None = None, end_id: int | None = None) -> pd.DataFrame:
    """Every order line as one frame: the input of features, models and recommenders.

    Columns: line_id, order_id, customer_id, placed_at, status, country, product_id, sku,
    category, product_kind, quantity, unit_price (float), amount (float), returned_line_id.
    `until` is exclusive, so a frame cut at a snapshot date holds nothing from that day on.
    With `first_id` and `end_id`, only the lines of customers with ids in [first_id, end_id)
    (a shard's), in line order (a shard's sums then add in the same order however it is cut).
    """
    qs = _shop_lines(until=until, with_guests=with_guests)
    if since is not None:
        qs = qs.filter(order__placed_at__gte=since)
    if first_id is not None:
        qs = qs.filter(order__customer_id__gte=first_id, order__customer_id__lt=end_id).order_by("pk")
    rows = qs.values_list(
        "id", "order_id", "order__customer_id", "order__placed_at", "order__status", "order__country",
        "product_id", "product__sku", "product__category", "product__kind", "quantity", "unit_price", "returned_line_id",
    )
    columns = [
        "line_id", "order_id", "customer_id", "placed_at", "status", "country",
        "product_id", "sku", "category", "product_kind", "quantity", "unit_price", "returned_line_id",
    ]
    frame = query_frame(queryset=rows, columns=columns, text=("status", "country", "sku", "category", "product_kind"),
                        planner=SHARD_READ_PLANNER if first_id is not None else None)
    frame["unit_price"] = frame["unit_price"].astype("float64")
    frame["quantity"] = frame["quantity"].astype("int64")
    frame["amount"] = frame["quantity"] * frame["unit_price"]
    frame["placed_at"] = pd.to_datetime(frame["placed_at"], utc=True, format="ISO8601")  # COPY text: microseconds only where non-zero
    return frame


def purchase_days_frame(*, until: datetime) -> pd.DataFrame:
    """(customer_id, day) of every day a customer bought something (a sale line) before `until`, sorted by both.

    Days are UTC dates (as `placed_at.dt.floor("D")` of the lines frame); the shop-level part of the
    feature snapshot (the gaps between order days) is read from this instead of every line.
    """
    days = (_shop_lines(until=until).sales().annotate(day=TruncDate("order__placed_at", tzinfo=UTC))
            .values_list("order__customer_id", "day").distinct().order_by("order__customer_id", "day"))
    frame = query_frame(queryset=days, columns=["customer_id", "day"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["day"] = pd.to_datetime(frame["day"], utc=True)
    return frame


def purchase_orders_frame(*, until: datetime) -> pd.DataFrame:
    """customer_id, placed_at of every order with a sale line before `until` (index order_id): the
    shop's cadence (its horizons) without reading every line."""
    rows = _shop_lines(until=until).sales().values_list("order_id", "order__customer_id", "order__placed_at").distinct().order_by()
    frame = query_frame(queryset=rows, columns=["order_id", "customer_id", "placed_at"])
    frame["placed_at"] = pd.to_datetime(frame["placed_at"], utc=True, format="ISO8601")
    return frame.astype({"order_id": "int64", "customer_id": "int64"}).set_index("order_id")


def customer_net_spend_totals() -> pd.Series:
    """Each customer's net spend (sales minus returns, `OrderLine.objects.net()`; a cancelled sale
    and a fee are not spend) as floats indexed by customer_id, guests and erased customers left out:
    one aggregate in the database, so no line is read into Python (`mlcore.ml.sales.net_spend` of
    the lines frame gives the same)."""
    rows = _shop_lines().net_spend_per_customer().values_list("customer_id", "value")
    frame = query_frame(queryset=rows, columns=["customer_id", "amount"])
    return pd.Series(frame["amount"].astype("float64").to_numpy(), index=frame["customer_id"].astype("int64").to_numpy(), name="amount")


def category_sales_totals(*, until: datetime) -> pd.Series:
    """Sales (quantity x unit price) per product category ("" for none) before `until`, categories ascending."""
    rows = (_shop_lines(until=until).sales().values("product__category").annotate(amount=Sum(LINE_AMOUNT))
            .values_list("product__category", "amount").order_by())
    totals = pd.Series({str(c or ""): float(a) for c, a in rows}, dtype="float64")
    return totals.groupby(level=0).sum().sort_index()


def customers_frame() -> pd.DataFrame:
    rows = Customer.objects.not_erased().values_list("id", "external_id", "country", "first_seen", "email_consent")
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "external_id", "country", "first_seen", "email_consent"])
    frame["first_seen"] = pd.to_datetime(frame["first_seen"], utc=True)
    return frame


def products_frame(*, recommendable_only: bool = False) -> pd.DataFrame:
    qs = Product.objects.recommendable() if recommendable_only else Product.objects.all()
    columns = ["product_id", "sku", "title", "description", "category", "price", "kind", "active", "created_at"]
    rows = qs.values_list("id", "sku", "title", "description", "category", "price", "kind", "active", "created_at")
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    frame["price"] = frame["price"].astype("float64")
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def reviews_frame(*, until: datetime | None = None) -> pd.DataFrame:
    qs = Review.objects.exclude(customer_id__in=Customer.objects.exclude(erased_at=None).values("pk"))
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    rows = qs.values_list("id", "product_id", "customer_id", "rating", "title", "text", "language", "created_at")
    frame = pd.DataFrame.from_records(list(rows), columns=["review_id", "product_id", "customer_id", "rating", "title", "text", "language", "created_at"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


@dataclass(frozen=True)
class CustomerDataSpan:
    """When a customer's orders and reviews begin and end (None: has none), for retraining decisions."""

    orders_first: datetime | None
    orders_last: datetime | None
    reviews_first: datetime | None
    reviews_last: datetime | None


def customer_data_span(*, customer_id: int) -> CustomerDataSpan:
    orders = Order.objects.filter(customer_id=customer_id).aggregate(first=Min("placed_at"), last=Max("placed_at"))
    reviews = Review.objects.filter(customer_id=customer_id).aggregate(first=Min("created_at"), last=Max("created_at"))
    return CustomerDataSpan(orders["first"], orders["last"], reviews["first"], reviews["last"])


def shop_totals() -> dict:
    """The shop's headline figures: customers (and how many may be emailed), orders with a sale,
    net revenue (sales minus returns), and the date of the last order."""
    agg = Order.objects.purchases().aggregate(n=Count("id"), last=Max("placed_at"))
    revenue = OrderLine.objects.net().aggregate(total=Sum(LINE_AMOUNT))["total"]
    return {
        "customers": Customer.objects.count(), "emailable": Customer.objects.emailable().count(),
        "orders": agg["n"] or 0, "revenue": revenue or Decimal("0"), "last_order_at": agg["last"],
    }


def country_choices() -> list[str]:
    """Countries the shop's customers are in, most customers first (audience form choices)."""
    rows = Customer.objects.exclude(country="").values("country").annotate(n=Count("id")).order_by("-n", "country")
    return [row["country"] for row in rows]


def category_choices() -> list[str]:
    """Product categories present in the catalogue, alphabetical."""
    return list(Product.objects.exclude(category="").order_by("category").values_list("category", flat=True).distinct())


def product_review_summary(*, product_id: int) -> dict:
    """Number of reviews, mean rating and the three latest reviews with text (product page)."""
    reviews = Review.objects.filter(product_id=product_id)
    agg = reviews.aggregate(count=Count("id"), rating_mean=Avg("rating"))
    latest = list(reviews.exclude(text="").order_by("-created_at", "-id").values("rating", "title", "text", "created_at")[:3])
    return {**agg, "latest": latest}


def products_knowledge_state() -> dict[int, str]:
    """product id -> a key that changes whenever the product or its set of reviews changes
    (updated_at | review count | last review id), for merchandise only: what a search index of
    the catalogue compares with what it last indexed."""
    rows = Product.objects.filter(kind=Product.Kind.PRODUCT).annotate(n=Count("reviews"), last=Max("reviews__id"))
    return {pk: f"{updated.isoformat()}|{n}|{last or 0}" for pk, updated, n, last in rows.values_list("id", "updated_at", "n", "last")}


def products_knowledge_rows(*, product_ids: list[int], reviews_per_product: int = 20) -> list[dict]:
    """The products' catalogue facts with their review count, mean rating and up to
    `reviews_per_product` (rating, text) pairs of the latest reviews with text."""
    products = Product.objects.filter(pk__in=product_ids).annotate(review_count=Count("reviews"), rating_mean=Avg("reviews__rating"))
    rows = list(products.values("id", "sku", "title", "description", "category", "price", "active", "attributes", "review_count", "rating_mean"))
    texts: dict[int, list[tuple[int | None, str]]] = {}
    for product_id, rating, text in Review.objects.filter(product_id__in=product_ids).exclude(text="").order_by("-created_at", "-id").values_list(
        "product_id", "rating", "text"
    ):
        bucket = texts.setdefault(product_id, [])
        if len(bucket) < reviews_per_product:
            bucket.append((rating, text))
    return [{**row, "reviews": texts.get(row["id"], [])} for row in rows]
