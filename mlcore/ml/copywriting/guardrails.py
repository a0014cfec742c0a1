"""The guardrails a drafted subject line or body must pass, checked in code on every draft.

Each rule is a small pure function returning the reasons it refuses (empty: passes):
- customer data: no e-mail address, phone number, known customer name or "Dear Jane"-style
  greeting in literal text; personalisation only through template variables. The same check
  runs on every prompt before it reaches the model (`prompt_violations`).
- discount: no percentage above the brand voice's largest discount ("25% off", "25 percent",
  "half price" counts as 50%).
- banned words (whole words) and banned claims (phrases), case-insensitive.
- length limits (characters) of the kind.
- template: compiles (the caller passes the campaign renderer's check) and names only the
  variables of the campaign context; no HTML markup (the body is plain text; approval adds it);
  no invented placeholder ("[Customer's Name]") that would reach customers as written.
- repetition: no line three times, no text of few distinct words (small models loop).
The voice is plain data (`VoiceRules`) so the same checks run in a bench without a database.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?<![\w.])\+?\d[\d ()-]{7,}\d(?![\w.])")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_PLACEHOLDER = re.compile(r"\[[^\]]{1,40}\]|(?<!{){\s*\w[\w ]{0,30}}(?!})|<<[^>]+>>")
GREETING_NAME = re.compile(r"\b(?i:dear|hi|hello|hey)\s+([A-Z][a-z]+)\b")
_VARIABLE = re.compile(r"{{\s*([\w.]+)")
_TEMPLATE_PART = re.compile(r"{{.*?}}|{%.*?%}", re.DOTALL)
_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>")
_PERCENT = re.compile(r"(\d{1,3}(?:[.,]\d+)?)\s*(?:%|per\s*cent\b|percent\b)", re.IGNORECASE)
_HALF = re.compile(r"\bhalf[\s-]+price\b|\bhalf\s+off\b", re.IGNORECASE)

# Template variables a draft may use (the campaign rendering context, campaigns/rendering.py).
ALLOWED_VARIABLES = frozenset({
    "customer.first_name", "customer.name", "customer.country", "offer", "discount_code", "landing_url",
    "unsubscribe_url", "campaign.name", "recommendations", "p.title", "p.price", "p.url", "p.review_summary",
})
GREETING_WORDS = frozenset({"There", "All", "Everyone", "Friend", "Friends", "Again", "Shopper", "Shoppers"})


@dataclass(frozen=True)
class VoiceRules:
    tone: str = "warm and plain"
    banned_words: tuple[str, ...] = ()
    banned_claims: tuple[str, ...] = ()
    max_discount_percent: float = 0.0
    subject_max_chars: int = 80
    body_max_chars: int = 600
    min_chars: int = 8


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)


def literal_text(text: str) -> str:
    """The text with template tags and variables removed: what no template fills in."""
    return _TEMPLATE_PART.sub(" ", text)


def customer_data_reasons(text: str, known_names: Iterable[str] = ()) -> list[str]:
    plain = literal_text(text)
    reasons = []
    if EMAIL.search(plain):
        reasons.append(f"customer data: an e-mail address ({EMAIL.search(plain).group(0)})")
    phones = [m.group(0).strip() for m in PHONE.finditer(_DATE.sub(" ", plain)) if sum(c.isdigit() for c in m.group(0)) >= 9]
    if phones:
        reasons.append(f"customer data: a phone number ({phones[0]})")
    greeted = [m.group(1) for m in GREETING_NAME.finditer(plain) if m.group(1) not in GREETING_WORDS]
    if greeted:
        reasons.append(f"customer data: a name in literal text ({greeted[0]}); use {{{{ customer.first_name }}}}")
    lowered = plain.lower()
    named = sorted(n for n in known_names if n and len(n.split()) >= 2 and n.lower() in lowered)
    if named:
        reasons.append(f"customer data: a customer's name ({named[0]})")
    return reasons


def discount_reasons(text: str, max_percent: float) -> list[str]:
    stated = [float(m.group(1).replace(",", ".")) for m in _PERCENT.finditer(text)]
    stated += [50.0] * len(_HALF.findall(text))
    over = [p for p in stated if p > max_percent]
    return [f"discount: {max(over):g}% is above the largest allowed ({max_percent:g}%)"] if over else []


def banned_word_reasons(text: str, words: Iterable[str]) -> list[str]:
    found = [w for w in words if w.strip() and re.search(rf"(?<!\w){re.escape(w.strip())}(?!\w)", text, re.IGNORECASE)]
    return [f"banned word: {w!r}" for w in found]


def banned_claim_reasons(text: str, claims: Iterable[str]) -> list[str]:
    flat = " ".join(text.lower().split())
    return [f"banned claim: {c!r}" for c in claims if c.strip() and " ".join(c.lower().split()) in flat]


def length_reasons(text: str, kind: str, rules: VoiceRules) -> list[str]:
    limit = rules.subject_max_chars if kind == "subject" else rules.body_max_chars
    size = len(text.strip())
    if size < rules.min_chars:
        return [f"length: {size} characters, fewer than {rules.min_chars}"]
    if size > limit:
        return [f"length: {size} characters, more than the {kind} limit of {limit}"]
    if kind == "subject" and "\n" in text.strip():
        return ["length: a subject line must be one line"]
    return []


def template_reasons(text: str, template_error: Callable[[str], str | None]) -> list[str]:
    if error := template_error(text):
        return [f"template syntax: {error}"]
    unknown = sorted({v for v in _VARIABLE.findall(text) if v not in ALLOWED_VARIABLES})
    reasons = [f"template: unknown variable {{{{ {v} }}}}" for v in unknown]
    if _MARKUP.search(text):
        reasons.append("template: HTML markup in a plain-text draft")
    return reasons


def placeholder_reasons(text: str) -> list[str]:
    """A "[Customer's Name]" or "{name}" the model invented: it would reach customers as written."""
    found = _PLACEHOLDER.search(literal_text(text))
    return [f"template: placeholder {found.group(0)!r} is not a template variable"] if found else []


def repetition_reasons(text: str) -> list[str]:
    """Degenerate output (a small model looping): a line three times, or few distinct words."""
    lines = [line.strip().lower() for line in text.splitlines() if line.strip()]
    words = re.findall(r"\w+", text.lower())
    if lines and max(lines.count(line) for line in lines) >= 3:
        return ["repetition: the same line three times or more"]
    if len(words) >= 20 and len(set(words)) / len(words) < 0.4:
        return [f"repetition: {len(set(words))} distinct words of {len(words)}"]
    return []


def draft_check(
    text: str, *, kind: str, rules: VoiceRules, template_error: Callable[[str], str | None], known_names: Iterable[str] = (),
) -> Verdict:
    """Every guardrail on one draft; the reasons of all failing rules, in rule order."""
    reasons = [
        *length_reasons(text, kind, rules),
        *template_reasons(text, template_error),
        *placeholder_reasons(text),
        *repetition_reasons(text),
        *customer_data_reasons(text, known_names),
        *discount_reasons(text, rules.max_discount_percent),
        *banned_word_reasons(text, rules.banned_words),
        *banned_claim_reasons(text, rules.banned_claims),
    ]
    return Verdict(passed=not reasons, reasons=reasons)


def prompt_violations(messages: list[dict], known_names: Iterable[str] = ()) -> list[str]:
    """Customer data in a prompt (checked before any model sees it): e-mails, phones, names."""
    text = "\n".join(m.get("content", "") for m in messages)
    return customer_data_reasons(text, known_names)
