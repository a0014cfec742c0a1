"""Campaign mail as bytes: the short-header policy, the boundary, products in templates."""
from __future__ import annotations

from email import message_from_bytes

import pytest
from django.core.mail import EmailMultiAlternatives

from campaigns.recommendations import RecommendedProduct
from campaigns.rendering import SHORT_HEADER_POLICY, CampaignEmail, message_render
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory

LONG_UNSUBSCRIBE = "<https://shop.example.com/u/" + "x" * 90 + ">, <mailto:shop@example.com?subject=unsubscribe>"


@pytest.mark.parametrize("value", ["Bob, picked for you", "two  spaces stay", "a " * 50 + "end", "x" * 150, LONG_UNSUBSCRIBE, "Zoë, für dich"])
def test_short_header_policy_unfolds_to_the_value_it_was_given(value):
    # given plain, long, spaced and non-ASCII header values, when folded, then unfolding gives the value back and a line only runs past 78 characters when one word does
    folded = SHORT_HEADER_POLICY.fold("Subject", value)
    parsed = message_from_bytes(folded.encode("ascii") + b"\n")["Subject"]
    if value.isascii():
        assert parsed.replace("\n", "") == value
        assert all(len(line) <= 78 or len(line.removeprefix("Subject:").split()) == 1 for line in folded.splitlines())
    else:
        assert "=?utf-8?" in folded  # the standard RFC 2047 path


def _parsed(message_class) -> object:
    mail = message_class("Zoë, picked for you", "text é\nline", "shop@example.com", ["bob@example.com"],
                         headers={"List-Unsubscribe": LONG_UNSUBSCRIBE, "Message-ID": "<c1.d2@example.com>", "X-Campaign": "1"})
    mail.attach_alternative("<p>hi é</p>", "text/html")
    return message_from_bytes(mail.message().as_bytes(linesep="\r\n"))


def test_campaign_email_parses_to_the_same_message_as_djangos():
    # given the same content, when flattened by Django's class and by CampaignEmail, then headers (but Date) and both parts read back the same
    ours, django = _parsed(CampaignEmail), _parsed(EmailMultiAlternatives)
    unfold = lambda v: " ".join(str(v).split())  # noqa: E731
    for name in ("Subject", "From", "To", "Message-ID", "List-Unsubscribe", "X-Campaign", "MIME-Version"):
        assert unfold(ours[name]) == unfold(django[name])
    assert ours.get_content_type() == django.get_content_type() == "multipart/alternative"
    assert [p.get_payload(decode=True) for p in ours.get_payload()] == [p.get_payload(decode=True) for p in django.get_payload()]
    assert [p.get_content_type() for p in ours.get_payload()] == ["text/plain", "text/html"]


@pytest.mark.django_db
def test_template_products_are_plain_values_with_a_money_price():
    # given a recommended product priced 10 and one without a price, when rendered, then the price reads 10.00 and the other shows none
    variant = VariantFactory(text_body="{% for p in recommendations %}[{{ p.sku }} {{ p.price }}]{% endfor %}")
    products = [RecommendedProduct(1, "SKU1", "Mug", 10, "", "https://shop.example.com/p/1", 1.0, "popular"),
                RecommendedProduct(2, "SKU2", "Cup", None, "", "https://shop.example.com/p/2", 0.5, "popular")]
    rendered = message_render(campaign=variant.campaign, variant=variant, customer=CustomerFactory(), delivery_id=None, recommendations=products)
    assert "[SKU1 10.00][SKU2 ]" in rendered.text
