"""Campaign mail through Django's real SMTP backend to a local aiosmtpd server."""
from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from django.test import Client

from campaigns.models import Campaign, Delivery
from campaigns.services.lifecycle import campaign_start
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _body(message, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


def _popular_product():
    product = ProductFactory(title="Blue Mug", image_url="https://cdn.example.com/mug.png", url="https://shop.example.com/p/mug")
    OrderLineFactory(product=product, quantity=2, order__customer__email_consent=False)
    return product


def test_campaign_mail_reaches_smtp_server_with_headers_personalisation_and_tracked_links(smtp_server, django_capture_on_commit_callbacks):
    # given a popular product, two consenting customers and one without consent, when the campaign is sent through SMTP, then each consenting customer gets one personalised message with compliant headers
    _popular_product()
    alice = CustomerFactory(name="Alice Smith", email="alice@example.com")
    CustomerFactory(name="Bob Jones", email="bob@example.com")
    CustomerFactory(name="Carl NoConsent", email="carl@example.com", email_consent=False)
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_start(campaign_id=variant.campaign_id)
    by_rcpt = {rcpts[0]: message_from_bytes(raw, policy=policy.default) for rcpts, raw in smtp_server.messages}
    assert set(by_rcpt) == {"alice@example.com", "bob@example.com"}
    mail = by_rcpt["alice@example.com"]
    delivery = Delivery.objects.get(customer=alice)
    assert mail["Subject"] == "Alice, picked for you"
    assert mail["Message-ID"] == delivery.message_id == f"<campaign{variant.campaign_id}.delivery{delivery.pk}@example.com>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://shop.example.com/u/" in mail["List-Unsubscribe"]
    html, text = _body(mail, "html"), _body(mail, "plain")
    assert "Hello Alice" in html and "Blue Mug" in html and "https://cdn.example.com/mug.png" in html
    assert re.search(r"Code: SPRING-[A-Z2-7]{8}", html)
    assert "Hello Alice & friends" in text
    assert "https://shop.example.com/t/o/" in html  # open pixel
    assert "https://shop.example.com/p/mug" not in html  # product links are tracked redirects
    assert Campaign.objects.get(pk=variant.campaign_id).status == Campaign.Status.SENT


def test_tracked_link_in_received_mail_redirects_and_counts_a_click(smtp_server, django_capture_on_commit_callbacks):
    # given a sent message, when its first tracked link is followed, then it redirects to the product and records a click
    _popular_product()
    CustomerFactory(name="Alice Smith", email="alice@example.com")
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=variant.campaign_id)
    html = _body(message_from_bytes(smtp_server.messages[0][1], policy=policy.default), "html")
    tracked = re.findall(r'href="https://shop\.example\.com(/t/c/[^"]+)"', html)
    response = Client().get(tracked[0])
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/p/mug"
    assert Delivery.objects.get().click_count == 1


def test_hard_bounce_from_smtp_fails_delivery_and_suppresses_address(smtp_server, django_capture_on_commit_callbacks):
    # given the SMTP server refuses one address with 550, when the campaign is sent, then that delivery fails, the address is suppressed and consent withdrawn with source bounce
    bad = CustomerFactory(email="gone@example.com")
    CustomerFactory(email="fine@example.com")
    smtp_server.refuse["gone@example.com"] = "550 5.1.1 No such user"
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=variant.campaign_id)
    bad.refresh_from_db()
    assert Delivery.objects.get(customer=bad).status == Delivery.Status.FAILED
    assert "550" in Delivery.objects.get(customer=bad).error
    assert not bad.email_consent and bad.email_consent_source == "bounce"
    assert [r for r, _ in smtp_server.messages] == [["fine@example.com"]]


def test_transient_smtp_refusal_is_retried_later_not_failed(smtp_server, django_capture_on_commit_callbacks):
    # given the server defers an address with 451, when the campaign is sent, then the delivery is queued again with a retry time and the campaign is not marked sent
    CustomerFactory(email="later@example.com")
    smtp_server.refuse["later@example.com"] = "451 4.3.0 Try again later"
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=variant.campaign_id)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.next_attempt_at is not None and delivery.attempts == 1
    assert Campaign.objects.get().status == Campaign.Status.SENDING
