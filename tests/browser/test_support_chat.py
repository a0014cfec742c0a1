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
