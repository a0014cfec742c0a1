"""The signed support-chat link: the customer id signed with its own salt and a timestamp, so a
link from one customer's email cannot be forged for another and expires after
ASSISTANT_LINK_MAX_AGE_DAYS. Same scheme as the campaign landing token (django.core.signing)."""
from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "campaigns.assistant.chat"


def chat_token(customer_id: int) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(str(customer_id))


def customer_from_chat_token(token: str) -> int | None:
    """The customer id the token was signed for, or None when it is tampered, expired or malformed."""
    if not token:
        return None
    try:
        max_age = settings.ASSISTANT_LINK_MAX_AGE_DAYS * 86400
        return int(signing.TimestampSigner(salt=_SALT).unsign(token, max_age=max_age))
    except (signing.BadSignature, ValueError):
        return None


def chat_url(customer_id: int | None) -> str:
    path = reverse("support:chat")
    return f"{settings.SITE_URL}{path}?t={chat_token(customer_id)}" if customer_id else f"{settings.SITE_URL}{path}"
