"""Public pages: signed click redirects (no open redirect), open pixel, one-click unsubscribe,
personalised landing pages with a generic fallback."""
from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client

from campaigns import links
from campaigns.models import DeliveryEvent
from campaigns.rendering import context_for
from customers.models import ConsentChange
from tests.campaigns.factories import DeliveryFactory
from tests.customers.factories import CustomerFactory, OrderLineFactory, ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery():
    return DeliveryFactory(customer=CustomerFactory(name="Dana Scully"))


def _path(url: str) -> str:
    return url.removeprefix("https://shop.example.com")


def test_signed_link_to_a_campaign_url_redirects_and_records_the_click(delivery):
    # given a link signed for a URL written in the template, when followed, then it redirects there and records a click and an open
    response = Client().get(_path(links.tracked_url(delivery.pk, "https://shop.example.com/sale")))
    delivery.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == "https://shop.example.com/sale"
    assert delivery.click_count == 1 and delivery.opened_at is not None
    assert DeliveryEvent.objects.get().url == "https://shop.example.com/sale"


def test_signed_link_to_a_product_page_redirects(delivery):
    # given a product with a page URL, when a signed link to it is followed, then it redirects (recommendations are campaign links)
    ProductFactory(url="https://shop.example.com/p/lamp")
    response = Client().get(_path(links.tracked_url(delivery.pk, "https://shop.example.com/p/lamp")))
    assert response.status_code == 302


def test_signed_link_to_a_foreign_url_is_refused(delivery):
    # given a correctly signed link to a URL the campaign does not contain, when followed, then it is refused and nothing is recorded
    response = Client().get(_path(links.tracked_url(delivery.pk, "https://evil.example.net/phish")))
    assert response.status_code == 400
    assert not DeliveryEvent.objects.exists()


def test_tampered_link_is_refused(delivery):
    # given a signed link whose token is altered, when followed, then it is refused
    url = _path(links.tracked_url(delivery.pk, "https://shop.example.com/sale"))
    token = url.split("/t/c/")[1].rstrip("/")
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert Client().get(f"/t/c/{forged}/").status_code == 400
    assert Client().get("/t/c/not-a-token/").status_code == 400


def test_open_pixel_records_an_open_and_ignores_bad_tokens(delivery):
    # given the pixel URL, when fetched with a good and a bad token, then both return a GIF but only the good one counts
    good = Client().get(_path(links.open_pixel_url(delivery.pk)))
    bad = Client().get("/t/o/123:forged.gif")
    delivery.refresh_from_db()
    assert good["Content-Type"] == bad["Content-Type"] == "image/gif"
    assert delivery.open_count == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_unsubscribe_is_one_click_without_login_and_recorded(delivery, method):
    # given the signed unsubscribe URL, when visited (GET link) or posted (List-Unsubscribe-Post), then consent is withdrawn at once with time and source
    response = getattr(Client(enforce_csrf_checks=True), method)(_path(links.unsubscribe_url(delivery.pk)), data={"List-Unsubscribe": "One-Click"} if method == "post" else None)
    delivery.customer.refresh_from_db()
    change = ConsentChange.objects.get(customer=delivery.customer)
    assert response.status_code == 200 and b"unsubscribed" in response.content
    assert not delivery.customer.email_consent
    assert change.source == "unsubscribe" and change.changed_at is not None


def test_unsubscribe_with_a_bad_token_changes_nothing(delivery):
    # given a forged token, when visited, then the page says the link is invalid and consent stays
    response = Client().get(f"/u/{delivery.pk}:forged/")
    delivery.customer.refresh_from_db()
    assert response.status_code == 400 and delivery.customer.email_consent


def test_landing_page_is_personalised_by_token_and_generic_otherwise(delivery):
    # given a popular product and a delivery, when the landing page is opened with its token, a forged token and another campaign's token, then only the first is personalised
    OrderLineFactory(product=ProductFactory(title="Garden Gnome", url="https://shop.example.com/p/gnome"))
    slug = delivery.campaign.slug
    personal = Client().get(_path(links.landing_url(slug, delivery.pk)))
    forged = Client().get(f"/c/{slug}/?t={delivery.pk}:forged")
    foreign = Client().get(f"/c/{slug}/?t={links.delivery_token(DeliveryFactory().pk, purpose='landing')}")
    assert personal.status_code == forged.status_code == foreign.status_code == 200
    assert b"Hello Dana" in personal.content and b"SPRING-" in personal.content and b"Garden Gnome" in personal.content
    assert b"Welcome" in forged.content and b"Dana" not in forged.content and b"SPRING-" not in forged.content
    assert b"Welcome" in foreign.content
    assert Client().get("/c/no-such-campaign/").status_code == 404


def test_discount_codes_are_stable_per_customer_and_differ_between_customers():
    # given a prefix, when codes are made twice for one customer and once for another, then the first two match and the third differs
    assert links.discount_code("X", 1, 5) == links.discount_code("X", 1, 5) != links.discount_code("X", 1, 6)
    assert links.discount_code("", 1, 5) == ""


def test_link_tokens_are_exactly_djangos_signer_tokens_and_follow_the_secret_key(settings):
    # given the cached-key signer, when tokens are made, then they equal django.core.signing's and change with SECRET_KEY
    for purpose in ("landing", "unsubscribe", "open"):
        assert links.delivery_token(42, purpose=purpose) == signing.Signer(salt=f"campaigns.{purpose}").sign("42")
    url = "https://shop.example.com/p/é?a=1"
    assert links.click_token(42, url) == signing.Signer(salt="campaigns.click").sign(links.click_token(42, url).rsplit(":", 1)[0])
    assert links.click_from_token(links.click_token(42, url)) == (42, url)
    before = links.delivery_token(42, purpose="unsubscribe")
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert links.delivery_token(42, purpose="unsubscribe") != before and links.delivery_from_token(before, purpose="unsubscribe") is None


def _token_for(purpose: str, delivery_id: int) -> str:
    if purpose == "click":
        return links.click_token(delivery_id, "https://shop.example.com/sale")
    return links.delivery_token(delivery_id, purpose=purpose)


def _used_as(purpose: str, token: str, delivery) -> bool:
    """Present `token` where a `purpose` link goes; True when the page acted on it."""
    if purpose == "landing":
        return b"Hello Dana" in Client().get(f"/c/{delivery.campaign.slug}/?t={token}").content
    if purpose == "unsubscribe":
        Client().get(f"/u/{token}/")
        delivery.customer.refresh_from_db()
        return not delivery.customer.email_consent
    if purpose == "open":
        Client().get(f"/t/o/{token}.gif")
        delivery.refresh_from_db()
        return delivery.open_count == 1
    return Client().get(f"/t/c/{token}/").status_code == 302


PURPOSES = ["landing", "unsubscribe", "open", "click"]


@pytest.mark.parametrize("made_for", PURPOSES)
@pytest.mark.parametrize("used_as", PURPOSES)
def test_a_token_works_only_for_the_purpose_it_was_signed_for(delivery, made_for, used_as):
    # given a valid token made for one purpose, when presented at each public page, then only the page of that purpose acts on it
    assert _used_as(used_as, _token_for(made_for, delivery.pk), delivery) is (made_for == used_as)


def test_product_page_shows_title_price_description_and_reviews(client):
    # given a product with a review, when its public page opens, then title, price, description and the review summary show
    product = ProductFactory(sku="85123A", title="Heart T-Light Holder", description="White, hanging.", price="2.95")
    ReviewFactory(product=product, rating=4, text="Lovely light")
    page = client.get("/products/85123A/").content.decode()
    assert "<h1>Heart T-Light Holder</h1>" in page and "GBP 2.95" in page and "White, hanging." in page
    assert "1 review, average rating 4.0 / 5" in page and "Lovely light" in page


def test_product_links_in_mail_open_a_page_that_exists(client, delivery):
    # given the recommendations of a rendered message, when each product link is followed, then every page answers 200; unknown SKUs and fees 404
    OrderLineFactory(product__sku="MUG 1")
    urls = [p["url"] for p in context_for(delivery.campaign, delivery.customer, delivery.pk)["recommendations"]]
    assert "https://shop.example.com/products/MUG%201/" in urls and all(url.startswith("https://shop.example.com/products/") for url in urls)
    assert all(client.get(_path(url)).status_code == 200 for url in urls)
    assert client.get("/products/NOPE/").status_code == 404
    assert client.get(f"/products/{ProductFactory(kind='fee').sku}/").status_code == 404
