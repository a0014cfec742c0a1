"""The /support/ chat page (plain forms, no JavaScript) and the assistant API."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.assistant.links import chat_token, chat_url, customer_from_chat_token
from campaigns.assistant.models import ChatMessage, Conversation, Ticket
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    customer = CustomerFactory(email="alice@example.com")
    OrderFactory(customer=customer, external_id="581001", placed_at=timezone.now() - dt.timedelta(days=2))
    return customer


def test_chat_token_round_trip_and_tampering(alice):
    # given alice's chat token, when read back and when altered, then it names her only while intact
    token = chat_token(alice.pk)
    assert customer_from_chat_token(token) == alice.pk
    assert customer_from_chat_token(token[:-2] + "xx") is None
    assert customer_from_chat_token(f"{alice.pk + 1}:{token.split(':', 1)[1]}") is None
    assert customer_from_chat_token(chat_url(alice.pk).split("?t=", 1)[1]) == alice.pk


def test_chat_page_renders_in_both_languages(client):
    # given no link, when the page is opened in English and Chinese, then the form and the welcome are in that language
    english = client.get("/support/").content.decode()
    chinese = client.get("/support/?lang=zh").content.decode()
    assert '<form method="post"' in english and "Ask me about delivery" in english
    assert 'lang="zh"' in chinese and "您好" in chinese and "发送" in chinese


def test_posting_a_question_starts_a_conversation_and_shows_the_cited_answer(client, knowledge):
    # given the anonymous page, when a question is posted, then the conversation page shows it, the answer and its source
    response = client.post("/support/", {"text": "How long do I have to return an item?"}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[0][0].startswith("/support/c/")
    assert "30 days" in page and "<cite>Returns policy</cite>" in page


def test_signed_link_makes_the_conversation_the_customers(client, knowledge, alice):
    # given alice's signed link, when she posts, then the conversation is hers and her order is answered
    page = client.post(f"/support/?t={chat_token(alice.pk)}", {"text": "Where is my order 581001?"}, follow=True).content.decode()
    assert Conversation.objects.get().customer_id == alice.pk
    assert "Order 581001" in page


def test_a_forged_token_gives_an_anonymous_chat(client, knowledge, alice):
    # given a token with a bad signature, when used, then the chat is anonymous and reveals no order
    page = client.post("/support/?t=1:forged", {"text": "Where is my order 581001?"}, follow=True).content.decode()
    assert Conversation.objects.get().customer_id is None and "Order 581001" not in page


def test_thumbs_are_recorded_from_the_page(client, knowledge):
    # given a conversation with a reply, when the thumbs-up form is posted, then the reply is rated 1
    client.post("/support/", {"text": "Do you deliver to Japan?"})
    conversation = Conversation.objects.get()
    reply = conversation.messages.get(role="assistant")
    client.post(f"/support/c/{conversation.public_id}/rate/{reply.pk}/", {"rating": "up"})
    assert ChatMessage.objects.get(pk=reply.pk).rating == 1


def test_unknown_conversation_is_404(client):
    # given a random id, when opened, then it is not found
    assert client.get("/support/c/8a0e6b7e-8c47-4d6f-9d8e-8b7c1c2e9f00/").status_code == 404


def test_api_conversation_and_message(anon_client, knowledge, alice):
    # given a signed token, when a conversation is started and a message posted through the API, then the reply names her order
    started = anon_client.post("/api/v1/assistant/conversations", {"token": chat_token(alice.pk)}, format="json")
    assert started.status_code == 201 and started.json()["signed"] is True
    url = f"/api/v1/assistant/conversations/{started.json()['id']}/messages"
    reply = anon_client.post(url, {"text": "Where is my order 581001?"}, format="json")
    assert reply.status_code == 201 and "Order 581001" in reply.json()["text"]
    assert [m["role"] for m in anon_client.get(url).json()] == ["customer", "assistant"]


def test_api_refuses_an_empty_message_and_unknown_ids(anon_client, knowledge):
    # given an anonymous conversation, when an empty text or an unknown id is posted, then 400 and 404 come back
    conversation_id = anon_client.post("/api/v1/assistant/conversations", {}, format="json").json()["id"]
    assert anon_client.post(f"/api/v1/assistant/conversations/{conversation_id}/messages", {"text": ""}, format="json").status_code == 400
    assert anon_client.post("/api/v1/assistant/conversations/8a0e6b7e-8c47-4d6f-9d8e-8b7c1c2e9f00/messages", {"text": "hi"}, format="json").status_code == 404


def test_admin_ticket_reply_emails_and_posts_in_the_chat(admin_user_client, knowledge, alice, mailoutbox):
    # given a ticket opened from alice's chat, when staff reply in the admin, then she gets the email and the chat shows it
    admin_user_client.post(f"/support/?t={chat_token(alice.pk)}", {"text": "I want to talk to a human"})
    ticket = Ticket.objects.get()
    page = admin_user_client.get(f"/admin/campaigns/ticket/{ticket.pk}/change/").content.decode()
    assert "581001" in page and "talk to a human" in page
    admin_user_client.post(f"/admin/campaigns/ticket/{ticket.pk}/change/", {"status": "open", "reply": "We are on it, Alice."})
    assert mailoutbox[0].to == ["alice@example.com"]
    chat = admin_user_client.get(f"/support/c/{ticket.conversation.public_id}/").content.decode()
    assert "We are on it, Alice." in chat and Ticket.objects.get().status == "answered"


def test_admin_article_edit_makes_a_new_version(admin_user_client, knowledge, django_capture_on_commit_callbacks):
    # given the refunds article, when edited in the admin, then its version is 2 and its chunks are rebuilt from the new text
    from campaigns.assistant.models import KnowledgeArticle

    article = KnowledgeArticle.objects.get(slug="refunds", language="en")
    data = {"slug": "refunds", "language": "en", "topic": "returns", "title": "Refunds", "body": "We refund within 4 working days.", "published": "on",
            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_user_client.post(f"/admin/campaigns/knowledgearticle/{article.pk}/change/", data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.version == 2 and article.indexed_version == 2
    assert article.chunks.get().text == "We refund within 4 working days."


def test_admin_conversation_log_lists_thumbs(admin_user_client, knowledge):
    # given a rated conversation, when the admin list opens, then its thumbs count shows
    admin_user_client.post("/support/", {"text": "Do you deliver to Japan?"})
    reply = ChatMessage.objects.get(role="assistant")
    ChatMessage.objects.filter(pk=reply.pk).update(rating=1)
    assert "+1 / -0" in admin_user_client.get("/admin/campaigns/conversation/").content.decode()


def test_landing_page_carries_the_support_widget_signed_for_its_customer(client, knowledge):
    # given a campaign delivery, when its landing page is opened with the token, then the widget posts to /support/ with the
    # customer's signed chat token, and asking there starts a chat that is the customer's
    from campaigns import links as campaign_links
    from tests.campaigns.factories import DeliveryFactory

    delivery = DeliveryFactory()
    page = client.get(f"/c/{delivery.campaign.slug}/?t={campaign_links.delivery_token(delivery.pk, purpose='landing')}").content.decode()
    assert 'id="support-widget"' in page and 'action="/support/"' in page
    token = page.split('name="t" value="', 1)[1].split('"', 1)[0]
    assert customer_from_chat_token(token) == delivery.customer_id
    client.post("/support/", {"t": token, "text": "Do you deliver to Japan?"})
    assert Conversation.objects.get().customer_id == delivery.customer_id


def test_admin_closes_a_ticket_without_a_reply(admin_user_client, knowledge, mailoutbox):
    # given an open ticket, when staff set it closed with no reply text, then it is closed and nothing is emailed
    admin_user_client.post("/support/", {"text": "I want to talk to a human"})
    ticket = Ticket.objects.get()
    admin_user_client.post(f"/admin/campaigns/ticket/{ticket.pk}/change/", {"status": "closed", "reply": ""})
    assert Ticket.objects.get().status == "closed" and mailoutbox == []
