"""Browser walk of the /support/ chat page in Chromium (Playwright, headless): an anonymous
returns question with its citation, a signed customer's order status, thumbs up, a Chinese
question, and a hand-over answered by staff in the admin. Skips, saying why, without Chromium."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.assistant.links import chat_token
from campaigns.assistant.models import ChatMessage, Ticket
from campaigns.assistant.services.handover import ticket_reply
from campaigns.assistant.services.knowledge import knowledge_load_file
from tests.browser.conftest import BROWSER
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = BROWSER


@pytest.fixture
def support_browser(settings, live_server, page):
    """The live server and a headless Chromium page (the shared browser fixtures), the assistant in its cheapest mode."""
    settings.ASSISTANT_DENSE, settings.ASSISTANT_LLM, settings.ASSISTANT_SENTIMENT = False, "none", False
    settings.DEBUG = False
    knowledge_load_file()
    return live_server.url, page


def _ask(page, text):
    page.fill("#text", text)
    page.click("#ask button[type=submit]")
    page.wait_for_load_state()


def test_chat_page_in_a_real_browser(support_browser):
    # given the live chat page, when a visitor, a signed customer and a Chinese customer chat, then each gets the right answer
    url, page = support_browser
    page.goto(f"{url}/support/")
    _ask(page, "How long do I have to return an item?")
    assert "30 days" in page.inner_text("#log") and page.inner_text("cite") == "Returns policy"
    page.click("form.rate button[aria-label=Helpful]")
    page.wait_for_load_state()
    assert ChatMessage.objects.get(role="assistant").rating == 1

    alice = CustomerFactory(email="alice@example.com")
    OrderFactory(customer=alice, external_id="581001", placed_at=timezone.now() - dt.timedelta(days=2))
    page.goto(f"{url}/support/?t={chat_token(alice.pk)}")
    assert "Signed in" in page.inner_text("#identity")
    _ask(page, "Where is my order 581001?")
    assert "Order 581001" in page.inner_text("#log")
    _ask(page, "I want to complain, this is unacceptable")
    ticket = Ticket.objects.get()
    ticket_reply(ticket_id=ticket.pk, text="Sorry Alice, we are sending a replacement.", user_id=None)
    page.reload()
    assert "Sorry Alice, we are sending a replacement." in page.inner_text(".msg.staff")

    page.goto(f"{url}/support/?lang=zh")
    _ask(page, "退货期限是多久？")
    assert "30天" in page.inner_text("#log") and page.inner_text("cite") == "退货政策"


def test_catalogue_question_thumbs_down_and_a_staff_reply_from_the_admin(support_browser, django_user_model, mailoutbox, settings):
    # given an indexed catalogue product, when a signed customer asks its price, then the answer cites the product page (a link that
    # opens it); a thumbs down shows in the conversation log; a complaint answered in the admin's ticket form reaches chat and inbox
    from decimal import Decimal

    from campaigns.assistant.services.catalogue import catalogue_reindex
    from tests.browser.conftest import log_in
    from tests.customers.factories import ProductFactory

    url, page = support_browser
    settings.SITE_URL = url
    ProductFactory(sku="21843", title="RED RETROSPOT CAKE STAND", price=Decimal("10.95"), description="")
    catalogue_reindex()
    alice = CustomerFactory(email="alice@example.com")
    page.goto(f"{url}/support/?t={chat_token(alice.pk)}")
    _ask(page, "Is the red retrospot cake stand in stock and what does it cost?")
    answer = page.inner_text(".msg.assistant >> nth=-1")
    assert "10.95 GBP" in answer and "in stock" in answer
    link = page.locator("a.product-source")
    assert link.inner_text() == "Red retrospot cake stand" and link.get_attribute("href") == f"{url}/products/21843/"
    page.click("form.rate button[aria-label='Not helpful'] >> nth=-1")
    page.wait_for_load_state()
    link.click()
    page.wait_for_load_state()
    assert "RED RETROSPOT CAKE STAND" in page.inner_text("body").upper()

    page.goto(f"{url}/support/?t={chat_token(alice.pk)}")
    _ask(page, "I want to complain, the stand arrived broken")
    conversation_url, ticket = page.url, Ticket.objects.get()
    django_user_model.objects.create_superuser("sam", "sam@example.com", "pw-sam-1234")
    log_in(page, url, "sam", "pw-sam-1234")
    page.goto(f"{url}/admin/campaigns/conversation/")
    assert "+0 / -1" in page.inner_text("#result_list")
    page.goto(f"{url}/admin/campaigns/ticket/{ticket.pk}/change/")
    page.fill("#id_reply", "Sorry Alice, a new stand is on its way.")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    assert mailoutbox[-1].to == ["alice@example.com"] and "a new stand is on its way" in mailoutbox[-1].body
    page.goto(conversation_url)
    assert "Sorry Alice, a new stand is on its way." in page.inner_text(".msg.staff")
