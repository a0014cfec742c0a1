"""The one definition of a sale, a return and net spend, on the ORM and on frames (issue #12)."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from campaigns.audience import audience_queryset
from customers.models import Customer, Order, OrderLine, Product
from customers.selectors import customer_net_spend_totals, customer_summary, order_lines_frame
from mlcore.ml import sales as frame_sales
from tests.customers.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """One customer: a sale of 10 x 2.00, a credit note (cancelled order) returning 4 of them, a
    cancelled sale of 100 x 1.00 and a postage fee of 5.00; a second customer with one sale of 3.00."""
    buyer, other = CustomerFactory(email="a@example.com"), CustomerFactory(email="b@example.com")
    mug, fee = ProductFactory(sku="MUG"), ProductFactory(sku="POST", kind=Product.Kind.FEE)
    sale = OrderFactory(customer=buyer)
    OrderLineFactory(order=sale, product=mug, quantity=10, unit_price=Decimal("2.00"))
    OrderLineFactory(order=sale, product=fee, quantity=1, unit_price=Decimal("5.00"))
    credit = OrderFactory(customer=buyer, status=Order.Status.CANCELLED)
    OrderLineFactory(order=credit, product=mug, quantity=-4, unit_price=Decimal("2.00"))
    cancelled = OrderFactory(customer=buyer, status=Order.Status.CANCELLED)
    OrderLineFactory(order=cancelled, product=mug, quantity=100, unit_price=Decimal("1.00"))
    OrderLineFactory(order=OrderFactory(customer=other), product=mug, quantity=1, unit_price=Decimal("3.00"))
    return buyer, other


def test_sales_returns_and_net_spend_follow_one_rule(shop):
    # given the shop above, when each named QuerySet is read, then sales skip the fee and the cancelled sale, returns hold the credit note, net spend is 20 - 8
    buyer, other = shop
    mine = OrderLine.objects.filter(order__customer=buyer)
    assert sorted(mine.sales().values_list("quantity", flat=True)) == [10]
    assert list(mine.returns().values_list("quantity", flat=True)) == [-4]
    spend = dict(Customer.objects.with_net_spend().values_list("pk", "net_spend"))
    assert spend[buyer.pk] == Decimal("12") and spend[other.pk] == Decimal("3")
    assert customer_summary(customer_id=buyer.pk).net_spent == Decimal("12")
    assert Order.objects.purchases().filter(customer=buyer).count() == 1
    assert sum(line.line_amount for line in mine.sales().with_amount()) == Decimal("20")


def test_the_frame_rules_give_the_same_answer_as_the_orm(shop):
    # given the same shop read as a frame, when mlcore.ml.sales is applied, then the sums match the QuerySet methods
    buyer, _ = shop
    frame = order_lines_frame()
    net = frame_sales.net_spend(frame)
    assert net[buyer.pk] == pytest.approx(12.0)
    assert frame_sales.sales(frame).query("customer_id == @buyer.pk")["quantity"].tolist() == [10]
    assert frame_sales.returns(frame)["quantity"].tolist() == [-4]


def test_net_spend_summed_in_the_database_equals_the_frame_rule(shop):
    # given the shop above plus a guest's sale, when net spend is summed in the database, then it is the frame's rule per customer (the cancelled sale and the fee left out) and the guest is not in it
    buyer, other = shop
    OrderLineFactory(order=OrderFactory(customer=None), quantity=2, unit_price=Decimal("9.00"))
    totals = customer_net_spend_totals()
    assert totals.to_dict() == {buyer.pk: pytest.approx(12.0), other.pk: pytest.approx(3.0)}
    pd.testing.assert_series_equal(totals.sort_index(), frame_sales.net_spend(order_lines_frame()).sort_index(), check_names=False, check_index_type=False)


def test_a_raw_frame_without_status_counts_every_positive_line():
    # given a file's lines with no status or kind columns, then every positive line is a sale
    raw = pd.DataFrame({"customer_id": [1, 1], "quantity": [2, -1], "amount": [4.0, -2.0]})
    assert frame_sales.sale_mask(raw).tolist() == [True, False]
    assert frame_sales.net_spend(raw)[1] == pytest.approx(2.0)


def test_audience_net_spend_subtracts_returns(shop):
    # given a buyer with 20 of sales and 8 returned, when an audience asks for net spend >= 15, then the buyer is not in it (the old rule counted 20)
    buyer, _ = shop
    chosen = set(audience_queryset([{"key": "spend", "params": {"min": 15}}]).values_list("pk", flat=True))
    assert buyer.pk not in chosen
    assert buyer.pk in set(audience_queryset([{"key": "spend", "params": {"min": 12}}]).values_list("pk", flat=True))


def test_the_order_lines_frame_is_the_same_through_copy_and_through_the_orm(shop, monkeypatch):
    # given lines with a guest, a return pointing at its sale, a numeric-looking SKU, an empty category and times with and without microseconds,
    # when the frame is read (COPY on PostgreSQL), then it equals the ORM's rows frame column by column
    import datetime as dt

    from infra import bulk

    guest, digits = OrderFactory(customer=None, placed_at=dt.datetime(2011, 5, 1, 9, 30, tzinfo=dt.UTC)), ProductFactory(sku="00123", category="")
    sale = OrderLineFactory(order=guest, product=digits, quantity=2, unit_price=Decimal("1.50"))
    later = OrderFactory(customer=shop[1], placed_at=dt.datetime(2011, 5, 2, 9, 30, 0, 123456, tzinfo=dt.UTC))  # with and without microseconds
    OrderLineFactory(order=later, product=digits, quantity=-1, unit_price=Decimal("1.50"), returned_line=sale)
    fast = order_lines_frame(with_guests=True)
    monkeypatch.setattr(bulk, "connection", type("C", (), {"vendor": "other"})())
    plain = order_lines_frame(with_guests=True)
    assert len(fast) == 7 and set(fast["sku"]) >= {"00123"} and fast["customer_id"].isna().sum() == 1
    pd.testing.assert_frame_equal(fast.sort_values("line_id").reset_index(drop=True), plain.sort_values("line_id").reset_index(drop=True), check_dtype=False)
    assert (fast.dtypes == plain.dtypes).all()


def test_a_shard_of_the_order_lines_is_its_customers_lines_and_leaves_the_planner_as_it_was(shop, monkeypatch):
    # given the shop above, when one customer's id range is read as a shard (on PostgreSQL with its own join plan),
    # then it holds exactly that customer's lines, equals the ORM's frame of the range, and the planner settings are back
    from django.db import connection

    from infra import bulk

    def planner():
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'), current_setting('work_mem')")
            return cursor.fetchone()

    buyer, other = shop
    first, end = min(buyer.pk, other.pk), min(buyer.pk, other.pk) + 1
    before = planner()
    fast = order_lines_frame(first_id=first, end_id=end)
    assert set(fast["customer_id"]) == {first} and len(fast) == OrderLine.objects.filter(order__customer_id=first).count()
    assert planner() == before
    monkeypatch.setattr(bulk, "connection", type("C", (), {"vendor": "other"})())
    plain = order_lines_frame(first_id=first, end_id=end)
    assert fast["returned_line_id"].isna().all() and plain["returned_line_id"].isna().all()  # no return points at a sale here: NaN vs None
    pd.testing.assert_frame_equal(fast.drop(columns="returned_line_id"), plain.drop(columns="returned_line_id"), check_dtype=False)


def test_planner_settings_hold_inside_and_are_restored_after():
    # given PostgreSQL, when statements run inside planner_settings, then they see the settings, and after it the earlier values hold again
    from django.db import connection

    from infra.bulk import planner_settings

    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")

    def current():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_hashjoin'), current_setting('work_mem')")
            return cursor.fetchone()

    before = current()
    with planner_settings({"enable_hashjoin": "off", "work_mem": "64MB"}):
        assert current() == ("off", "64MB")
    assert current() == before


def test_an_error_inside_planner_settings_surfaces_and_the_rollback_undoes_the_settings():
    # given PostgreSQL and a caller's own transaction, when a statement inside planner_settings fails,
    # then that error reaches the caller and, the savepoint rolled back, the earlier settings hold again
    from django.db import DatabaseError, connection, transaction

    from infra.bulk import planner_settings

    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_hashjoin')")
        before = cursor.fetchone()
        with pytest.raises(DatabaseError, match="division by zero"), planner_settings({"enable_hashjoin": "off"}):
            cursor.execute("SELECT 1 / 0")
        cursor.execute("SELECT current_setting('enable_hashjoin')")
        assert cursor.fetchone() == before


@pytest.mark.django_db(transaction=True)
def test_planner_settings_in_autocommit_hold_for_their_own_transaction_only(shop):
    # given PostgreSQL in autocommit (as a worker's shard read runs), when a shard is read, then it reads that customer's lines
    # and the next statement, outside the transaction planner_settings opened, sees the earlier settings
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    assert connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_hashjoin'), current_setting('work_mem')")
        before = cursor.fetchone()
    buyer = shop[0]
    assert set(order_lines_frame(first_id=buyer.pk, end_id=buyer.pk + 1)["customer_id"]) == {buyer.pk}
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_hashjoin'), current_setting('work_mem')")
        assert cursor.fetchone() == before
