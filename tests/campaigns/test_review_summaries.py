"""What customers say, where campaigns show it: the product page (claims with their reviews)
and templates (product.review_summary of each recommended product)."""
from __future__ import annotations

import pytest

from campaigns import rendering
from campaigns.models import Variant
from campaigns.rendering import message_render, review_summaries_cache_clear
from mlcore.feedback.services.summaries import review_summaries_refresh
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory, OrderLineFactory
from tests.mlcore.test_review_summaries_services import PRAISE, reviewed_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_summaries():
    review_summaries_cache_clear()
    yield
    review_summaries_cache_clear()


def test_product_page_shows_the_summary_with_quotes_linked_to_reviews(client):
    # given a product with a stored summary, when its page opens, then the paragraph, each claim and its supporting reviews show
    product = reviewed_product()
    review_summaries_refresh(min_reviews=10)
    html = client.get(f"/products/{product.sku}/").content.decode()
    assert "What customers say" in html and "Of 10 reviews, 3 praise the fit" in html
    first = product.reviews.get(text=PRAISE[0])
    assert f'id="review-{first.pk}"' in html and 'data-polarity="negative"' in html


def test_product_page_without_a_summary_has_no_section(client):
    # given a product with too few reviews, when its page opens, then there is no summary section
    product = reviewed_product(extra=0)
    review_summaries_refresh(min_reviews=10)
    assert "What customers say" not in client.get(f"/products/{product.sku}/").content.decode()


def test_templates_can_use_product_review_summary():
    # given a recommended product with a summary, when a template names p.review_summary, then the paragraph renders
    product = reviewed_product()
    OrderLineFactory(product=product, order__customer=CustomerFactory())
    review_summaries_refresh(min_reviews=10)
    variant = VariantFactory(subject="Picks", text_body="{% for p in recommendations %}{{ p.title }}: {{ p.review_summary }}\n{% endfor %}")
    rendered = message_render(campaign=variant.campaign, variant=Variant.objects.get(pk=variant.pk), customer=None, delivery_id=None)
    assert f"{product.title}: Of 10 reviews, 3 praise the fit" in rendered.text


def test_a_template_without_the_summary_does_not_load_it():
    # given summaries stored, when a template does not name review_summary, then rendering reads no summaries
    reviewed_product()
    review_summaries_refresh(min_reviews=10)
    variant = Variant.objects.get(pk=VariantFactory(subject="Hi", html_body="<p>x</p>", text_body="{% for p in recommendations %}{{ p.title }}{% endfor %}").pk)
    message_render(campaign=variant.campaign, variant=variant, customer=None, delivery_id=None)
    assert rendering._SUMMARIES == [0.0, {}]
