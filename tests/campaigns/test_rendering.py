"""Rendering: products reach templates as plain values."""
from __future__ import annotations

import pytest

from campaigns.recommendations import RecommendedProduct
from campaigns.rendering import message_render
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory


@pytest.mark.django_db
def test_template_products_are_plain_values_with_a_money_price(settings):
    # given a USD shop and a product priced 10 and one without a price, when rendered, then the price reads $10.00 and the other shows none
    settings.SHOP_CURRENCY = "USD"
    variant = VariantFactory(text_body="{% for p in recommendations %}[{{ p.sku }} {{ p.price }}]{% endfor %}")
    products = [RecommendedProduct(1, "SKU1", "Mug", 10, "", "https://shop.example.com/p/1", 1.0, "popular"),
                RecommendedProduct(2, "SKU2", "Cup", None, "", "https://shop.example.com/p/2", 0.5, "popular")]
    rendered = message_render(campaign=variant.campaign, variant=variant, customer=CustomerFactory(), delivery_id=None, recommendations=products)
    assert "[SKU1 $10.00][SKU2 ]" in rendered.text
