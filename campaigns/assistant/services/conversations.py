"""A conversation's life: start (anonymous or for the customer a signed link names), the reply
to each customer message, and the customer's thumbs on a reply.

The reply, in order: refuse prompt injection and requests for other customers' data; hand over
to staff on a complaint, a request for a person or a negative message (review-sentiment model);
answer order status, return eligibility and recommendations from the signed customer's own data
only (an order number that is not theirs gets the same answer as one that does not exist);
otherwise retrieve passages, compose (the LLM checked for groundedness, else the extract) and
cite; decline out-of-scope questions and hand over after repeated failures. Logs are redacted.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.assistant import selectors
from campaigns.assistant.models import ChatMessage, Conversation, KnowledgeArticle, Ticket
from campaigns.assistant.phrases import STATUS_WORDS, phrase
from campaigns.assistant.services import runtime
from campaigns.assistant.services.handover import ticket_open
from campaigns.links import product_url
from customers.models import Event
from customers.services import event_record
from mlcore.ml.assistant.catalogue import product_name
from mlcore.ml.assistant.compose import compose_answer
from mlcore.ml.assistant.extractive import answer_type_order
from mlcore.ml.assistant.guardrails import is_injection, redact
from mlcore.ml.assistant.text import terms, tokens
from mlcore.ml.feedback.language import detect_language
from mlcore.recommendations.selectors import recommendations_for_customer

log = logging.getLogger(__name__)
# ASCII look-arounds: in Chinese the number sits between ideographs ("订单581002到哪了"), which \w counts as letters
_ORDER_NUMBER = re.compile(r"(?<![A-Za-z0-9])([Cc]?\d{5,})(?![A-Za-z0-9])")
_RECOMMEND = re.compile(
    r"\b((recommend|suggest)( me)? (something|some|a gift|gifts|products?|items?|anything)|what else|might (i )?like|would i like|gift ideas?)\b"
    r"|推荐.{0,4}(商品|礼物|东西|什么)|还有什么.{0,4}(喜欢|好)|可能喜欢", re.IGNORECASE)
# words added to the retrieval query of a message of these intents (with or without a tool answer)
TOPIC_HINTS = {"order_status": "tracking dispatched 物流 发货", "return_refund": "returns policy 退货 政策", "cancel": "cancel 取消",
               "change_address": "change delivery address 修改地址"}
HANDOVER_INTENTS = {"complaint": Ticket.Reason.COMPLAINT, "human_agent": Ticket.Reason.REQUEST}


@dataclass(frozen=True)
class Reply:
    message_id: int
    text: str
    method: str
    intent: str
    citations: list[dict] = field(default_factory=list)
    ticket_id: int | None = None


@transaction.atomic
def conversation_start(*, customer_id: int | None, language: str = "en") -> Conversation:
    return Conversation.objects.create(customer_id=customer_id, language=language if language in ("en", "zh") else "en")


def message_reply(*, conversation_id: int, text: str) -> Reply:
    """Store the customer's message, decide and store the reply, return it."""
    started = time.perf_counter()
    conversation = Conversation.objects.select_related("customer").get(pk=conversation_id)
    text = (text or "").strip()[: settings.ASSISTANT_MAX_MESSAGE_CHARS]
    language = detect_language(text) if text else conversation.language
    intent = runtime.intent_of(text, language)
    sentiment = runtime.sentiment_of(text, language)
    incoming = ChatMessage.objects.create(conversation=conversation, role=ChatMessage.Role.CUSTOMER, text=text, intent=intent, sentiment=sentiment)
    log.info("support conversation=%s message=%s intent=%s text=%s", conversation.pk, incoming.pk, intent, redact(text))
    _customer_events(conversation, incoming)
    reply = _decide(conversation, text, language, intent, sentiment)
    failures = conversation.failures + 1 if reply["method"] == "out_of_scope" else 0
    if failures >= settings.ASSISTANT_MAX_FAILURES and reply.get("ticket_id") is None:
        ticket = ticket_open(conversation_id=conversation.pk, reason=Ticket.Reason.FAILURE)
        reply = {**reply, "text": reply["text"] + "\n" + phrase("handover", language, ticket=ticket.pk), "ticket_id": ticket.pk}
        failures = 0
    conversation.failures, conversation.language = failures, language
    conversation.save(update_fields=["failures", "language", "updated_at"])
    message = ChatMessage.objects.create(
        conversation=conversation, role=ChatMessage.Role.ASSISTANT, text=reply["text"], intent=intent, method=reply["method"],
        citations=reply.get("citations", []), supported_share=reply.get("supported_share"),
        latency_ms=int((time.perf_counter() - started) * 1000),
    )
    return Reply(message.pk, message.text, message.method, intent, message.citations, reply.get("ticket_id"))


def _customer_events(conversation: Conversation, message: ChatMessage) -> None:
    """A signed customer's support contact (once per conversation: on its first customer message)
    and each negative message become customer events that churn features count. No text, no PII:
    the conversation's public id, the message id, the intent and the sentiment score only."""
    if conversation.customer_id is None:
        return
    about = {"conversation": str(conversation.public_id), "intent": message.intent}
    first = not conversation.messages.filter(role=ChatMessage.Role.CUSTOMER).exclude(pk=message.pk).exists()
    if first:
        event_record(customer_id=conversation.customer_id, kind=Event.Kind.SUPPORT_CONTACT, occurred_at=message.created_at, properties=about)
    if message.sentiment is not None and message.sentiment <= settings.ASSISTANT_NEGATIVE_MAX:
        event_record(
            customer_id=conversation.customer_id, kind=Event.Kind.SUPPORT_NEGATIVE, occurred_at=message.created_at,
            properties={**about, "message": message.pk, "p_positive": round(message.sentiment, 3)},
        )


def _decide(conversation: Conversation, text: str, language: str, intent: str, sentiment: float | None) -> dict:
    if is_injection(text):
        return {"text": phrase("refusal", language), "method": "refusal"}
    reason = HANDOVER_INTENTS.get(intent)
    if reason is None and sentiment is not None and sentiment <= settings.ASSISTANT_NEGATIVE_MAX:
        reason = Ticket.Reason.NEGATIVE
    if reason is not None:
        ticket = ticket_open(conversation_id=conversation.pk, reason=reason)
        return {"text": phrase("handover", language, ticket=ticket.pk), "method": "handover", "ticket_id": ticket.pk}
    tool = _tool_reply(conversation.customer_id, text, language, intent)
    # the intent's topic words steer retrieval to its policy ("send something back" -> the returns policy)
    query = f"{text} {TOPIC_HINTS[intent]}" if intent in TOPIC_HINTS else text
    answer = _knowledge_reply(query, language, skip=tool is not None and not tool.get("with_policy"))
    if tool is None:
        return answer
    if answer["method"] == "out_of_scope":
        return {"text": tool["text"], "method": "tool"}
    return {**answer, "text": tool["text"] + "\n" + answer["text"], "method": "tool+" + answer["method"]}


def _tool_reply(customer_id: int | None, text: str, language: str, intent: str) -> dict | None:
    """Answers from the signed customer's own data; None when the message asks for none."""
    number = _ORDER_NUMBER.search(text)
    wants_order = intent in ("order_status", "return_refund", "cancel", "change_address") and (number or intent == "order_status")
    if _RECOMMEND.search(text):
        return _recommend(customer_id, language)
    if not wants_order:
        return None
    if customer_id is None:
        return {"text": phrase("needs_link", language), "with_policy": True}
    if number is None:
        orders = selectors.customer_recent_orders(customer_id=customer_id)
        lines = [_order_line(o, language) for o in orders] or [phrase("no_orders", language)]
        return {"text": "\n".join(lines)}
    order = selectors.customer_order(customer_id=customer_id, number=number.group(1))
    if order is None:
        return {"text": phrase("order_not_found", language)}
    if intent == "return_refund":
        return {"text": _return_line(order, language), "with_policy": True}
    return {"text": _order_line(order, language), "with_policy": intent != "order_status"}


def _order_line(order, language: str) -> str:
    return phrase(
        "order_status", language, number=order.external_id, date=order.placed_at.date().isoformat(),
        status=STATUS_WORDS[language if language in STATUS_WORDS else "en"].get(order.status, order.status),
        lines=order.n_lines, total=order.total, currency=order.currency,
    )


def _return_line(order, language: str) -> str:
    days = settings.ASSISTANT_RETURN_WINDOW_DAYS
    until = (order.placed_at + dt.timedelta(days=days)).date()
    if order.status != "placed":
        status = STATUS_WORDS[language if language in STATUS_WORDS else "en"].get(order.status, order.status)
        return phrase("return_status", language, number=order.external_id, status=status)
    key = "return_ok" if timezone.now().date() <= until else "return_late"
    return phrase(key, language, number=order.external_id, days=days, until=until.isoformat())


def _recommend(customer_id: int | None, language: str) -> dict:
    if customer_id is None:
        return {"text": phrase("recommend_needs_link", language)}
    items = recommendations_for_customer(customer_id=customer_id, k=3)
    if not items:
        return {"text": phrase("recommend_none", language)}
    return {"text": phrase("recommend", language, items=", ".join(item.title for item in items))}


def _knowledge_reply(text: str, language: str, *, skip: bool = False) -> dict:
    if skip:
        return {"text": "", "method": "out_of_scope"}
    found = runtime.retrieval_index(language).search(text, k=3 * settings.ASSISTANT_PASSAGES)
    if not found or not _in_scope(text, found[:settings.ASSISTANT_PASSAGES], language):
        return {"text": phrase("out_of_scope", language), "method": "out_of_scope"}
    # of the candidates, the passages that state what is asked (a duration for "how long") come first
    hits = [found[i] for i in answer_type_order(text, [h.passage.text for h in found])][:settings.ASSISTANT_PASSAGES]
    passages = [h.passage.text for h in hits]
    composed = compose_answer(text, passages, language, runtime.llm_client(), encoder=runtime.encoder_for(language))
    used = [hits[i].passage for i in composed.passage_indexes]
    return {"text": composed.text, "method": composed.method, "citations": _citations(used), "supported_share": composed.supported_share}


def _in_scope(text: str, hits, language: str) -> bool:
    """In scope when the best passage shares enough of the question's words, or is close in meaning."""
    asked, asked_tokens = terms(text), set(tokens(text))
    if not asked:
        return False
    best_dense = max((h.dense for h in hits if h.dense is not None), default=None)
    if best_dense is not None and best_dense >= settings.ASSISTANT_MIN_DENSE[language]:
        return True
    for hit in hits:
        shared = asked_tokens & set(tokens(hit.passage.indexed_text))
        # single Chinese characters match almost anything: a shared word (an English word or a Chinese bigram) is required too
        if len(asked & terms(hit.passage.indexed_text)) / len(asked) >= settings.ASSISTANT_MIN_OVERLAP and any(len(t) > 1 for t in shared):
            return True
    return False


def _citations(passages: list) -> list[dict]:
    """One citation per article or product used, in order: an article by title, a product by its
    title with a link to its page."""
    ordered = list(dict.fromkeys((p.article_id, p.product_id) for p in passages))
    articles = {pk: (slug, title) for pk, slug, title in KnowledgeArticle.objects.filter(
        pk__in=[a for a, _ in ordered if a]).values_list("pk", "slug", "title")}
    products = {p.pk: p for p in selectors.products_by_id(product_ids=[p for _, p in ordered if p])}
    out = []
    for article_id, product_id in ordered:
        if article_id is not None:
            slug, title = articles.get(article_id, ("", ""))
            out.append({"article_id": article_id, "slug": slug, "title": title})
        elif product_id in products:
            product = products[product_id]
            out.append({"product_id": product_id, "sku": product.sku, "title": product_name(product.title), "url": product_url(product.sku)})
    return out


@transaction.atomic
def message_rate(*, message_id: int, conversation_id: int, rating: int) -> bool:
    """The customer's thumbs (1 / -1) on an assistant reply of their own conversation."""
    if rating not in (1, -1):
        return False
    updated = ChatMessage.objects.filter(pk=message_id, conversation_id=conversation_id, role=ChatMessage.Role.ASSISTANT).update(rating=rating)
    return bool(updated)
