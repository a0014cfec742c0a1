"""Messages read mlcore's recommendation selector: best sellers before any recommender, links for every item."""
from __future__ import annotations

import pytest

from campaigns import recommendations
from tests.customers.factories import OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_before_any_recommender_every_customer_gets_the_best_sellers_with_a_product_link():
    # given two products, one bought by two customers and one by one, and no trained recommender, when a batch asks, then both customers get them in that order, linked to the shop's product page
    popular, other = ProductFactory(sku="POP", url=""), ProductFactory(sku="OTH", url="")
    first = OrderLineFactory(product=popular, quantity=1)
    second = OrderLineFactory(product=popular, quantity=2)
    OrderLineFactory(product=other, quantity=1, order=first.order)
    found = recommendations.recommendations_for_many([first.order.customer_id, second.order.customer_id], 2)
    for items in found.values():
        assert [i.sku for i in items] == ["POP", "OTH"]
        assert all(i.url.endswith(f"/products/{i.sku}/") for i in items)
    assert recommendations.recommendations_for(None, 1)[0].sku == "POP"
    assert recommendations.recommendations_for_many([first.order.customer_id], 0) == {first.order.customer_id: []}


def test_a_cancelled_sale_does_not_make_a_best_seller():
    # given a product bought only in a cancelled order, when the best sellers are read, then it is not one of them
    from customers.models import Order

    line = OrderLineFactory(product=ProductFactory(sku="GONE"), quantity=5, order__status=Order.Status.CANCELLED)
    assert "GONE" not in [i.sku for i in recommendations.recommendations_for(line.order.customer_id, 5)]
