"""Hand-over to staff: a ticket opened with the conversation and the customer's context, and the
staff reply that reaches the customer in the chat and by email."""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.assistant import selectors
from campaigns.assistant.models import ChatMessage, Conversation, Ticket
from campaigns.assistant.phrases import phrase

log = logging.getLogger(__name__)


def ticket_open(*, conversation_id: int, reason: str) -> Ticket:
    """The conversation's open ticket, or a new one (one open ticket per conversation)."""
    existing = Ticket.objects.filter(conversation_id=conversation_id, status=Ticket.Status.OPEN).first()
    if existing:
        return existing
    customer_id = Conversation.objects.filter(pk=conversation_id).values_list("customer_id", flat=True).first()
    try:
        with transaction.atomic():
            return Ticket.objects.create(
                conversation_id=conversation_id, reason=reason, customer_context=selectors.customer_context(customer_id=customer_id)
            )
    except IntegrityError:  # opened by a concurrent reply
        return Ticket.objects.get(conversation_id=conversation_id, status=Ticket.Status.OPEN)


def ticket_reply(*, ticket_id: int, text: str, user_id: int | None) -> Ticket:
    """Post the staff reply in the chat and email it to the customer (when known, with an address)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related("conversation__customer").get(pk=ticket_id)
        ChatMessage.objects.create(conversation=ticket.conversation, role=ChatMessage.Role.STAFF, text=text, method="staff")
        ticket.staff_reply, ticket.replied_by_id, ticket.replied_at = text, user_id, timezone.now()
        ticket.status = Ticket.Status.ANSWERED
        ticket.save(update_fields=["staff_reply", "replied_by", "replied_at", "status"])
    customer = ticket.conversation.customer
    if customer is not None and customer.email:
        subject = phrase("ticket_subject", ticket.conversation.language, ticket=ticket.pk)
        sent = send_mail(subject, text, settings.ASSISTANT_FROM_EMAIL, [customer.email], fail_silently=True)
        if sent:
            Ticket.objects.filter(pk=ticket.pk).update(reply_emailed=True)
            ticket.reply_emailed = True
    return ticket


def ticket_status_set(*, ticket_id: int, status: str) -> bool:
    """Staff closing or re-opening a ticket from the admin (an unknown status changes nothing)."""
    if status not in Ticket.Status.values:
        return False
    return bool(Ticket.objects.filter(pk=ticket_id).exclude(status=status).update(status=status))
