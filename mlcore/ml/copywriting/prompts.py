"""The prompts that ask a language model for campaign copy, and the cleaning of its reply.

A prompt holds only aggregates: the audience in words (its rules and segment mix, sizes and
medians), the featured products' names and prices, the campaign's offer and the brand voice.
Personalisation is asked for through template variables ({{ customer.first_name }}), never
through a customer's data. Greedy decoding gives one reply per prompt, so the n drafts of a
campaign differ by their angle (and featured product), not by sampling.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PROMPT_VERSION = "copy-v1"
ANGLES = (
    "a friendly greeting with the customer's first name",
    "the featured product",
    "the offer",
    "a short, curious question",
    "thanking the customer",
    "something new to discover",
)
MAX_TOKENS = {"subject": 20, "body": 72}
_PREFIX = re.compile(r"^\s*(?:subject(?: line)?|title|body|email|text)\s*[:\-]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class CopyBrief:
    campaign_name: str
    audience: tuple[str, ...]  # sentences describing the audience in aggregate
    products: tuple[tuple[str, str], ...]  # (title, price as shown)
    offer: str
    tone: str
    max_discount_percent: float


def _system(brief: CopyBrief, kind: str) -> str:
    limit = "one subject line of at most 60 characters" if kind == "subject" else "the body of an e-mail in 2 or 3 short sentences"
    return (
        f"You write marketing e-mails for an online shop. Tone: {brief.tone}. Write {limit}. "
        "To address the reader write {{ customer.first_name }} exactly; never invent names, e-mails or phone numbers. "
        f"Never promise a discount above {brief.max_discount_percent:g}%. Reply with the text only."
    )


def _user(brief: CopyBrief, kind: str, angle: str, product: tuple[str, str] | None) -> str:
    lines = [f"Campaign: {brief.campaign_name}.", "Audience: " + " ".join(brief.audience)]
    if brief.products:
        lines.append("Products: " + "; ".join(f"{t} ({p})" if p else t for t, p in brief.products) + ".")
    if brief.offer:
        lines.append(f"Offer: {brief.offer}")
    focus = f"{angle}, featuring {product[0]}" if product else angle
    lines.append(f"Write the {'subject line' if kind == 'subject' else 'e-mail body'} about {focus}.")
    return "\n".join(lines)


def copy_messages(brief: CopyBrief, *, kind: str, index: int) -> list[dict]:
    """The chat messages of draft number `index` (its angle and product cycle with the index)."""
    angle = ANGLES[index % len(ANGLES)]
    product = brief.products[(index // len(ANGLES)) % len(brief.products)] if brief.products else None
    return [{"role": "system", "content": _system(brief, kind)}, {"role": "user", "content": _user(brief, kind, angle, product)}]


def clean_reply(reply: str, kind: str) -> str:
    """The model's reply as a draft: labels and wrapping quotes removed; a subject is its first line."""
    text = reply.strip()
    if kind == "subject":
        text = next((line for line in text.splitlines() if line.strip()), "")
    text = _PREFIX.sub("", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    return text.strip("“”\"").strip() if kind == "subject" else text
