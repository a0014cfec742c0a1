from decimal import Decimal

import pytest

from customers.money import currency_symbol, decimal_text, money_format, price_format
from tests.customers.factories import OrderFactory, OrderLineFactory


def test_money_format_uses_the_currency():
    # given amounts in three currencies when formatted then each carries its own symbol, to the cent or whole units
    assert money_format(Decimal("86.0100"), "USD") == "$86.01"
    assert money_format(1234.5, "GBP", places=0) == "£1,234"
    assert money_format(-3, "EUR") == "-€3.00"
    assert currency_symbol("XYZ") == "XYZ "


def test_prices_show_their_stored_precision():
    # given stored prices when shown then padding zeros go and real decimals stay
    assert decimal_text(Decimal("0.0028593750")) == "0.002859375"
    assert decimal_text(Decimal("3.0000000000")) == "3.00"
    assert price_format(Decimal("0.0028593750"), "USD") == "$0.002859375"


@pytest.mark.django_db
def test_admin_order_list_shows_each_orders_currency(admin_user_client):
    # given a USD order and a GBP order when staff open the order list and a line then each total has its own symbol
    usd = OrderFactory(currency="USD", total=Decimal("86.01"))
    OrderFactory(currency="GBP", total=Decimal("12.50"))
    line = OrderLineFactory(order=usd, quantity=30080, unit_price=Decimal("0.002859375"))
    page = admin_user_client.get("/admin/customers/order/").content.decode()
    assert "$86.01" in page and "£12.50" in page
    assert "$0.002859375" in admin_user_client.get("/admin/customers/orderline/").content.decode()
    assert line.amount == Decimal("86.01")
