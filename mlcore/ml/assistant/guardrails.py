"""Rules applied around every reply: prompt-injection and data-fishing refusal, PII redaction
for logs, and the promise check (an answer may not offer refunds, discounts, compensation or
dates that its passages do not state). Patterns cover English and Chinese."""
from __future__ import annotations

import re

_INJECTION = [
    r"ignore (all |any |your |the )?(previous |prior |above )?(instructions|rules|prompt)",
    r"disregard (your|the|all) (instructions|rules|prompt)",
    r"(system prompt|developer mode|jailbreak|you are now|pretend (to be|you are)|act as (an? )?(admin|administrator|developer))",
    r"(show|list|give|tell|reveal|print)( me)? .{0,40}(orders?|address|email|details|data) of (customer|user|client|account)",
    r"(customer|user|account) (id |number |no\.? )?#?\d{3,}",
    r"(all|every|other) (customers?|users?)('s?)? (orders?|data|emails?|addresses)",
    r"忽略.{0,6}(指令|规则|提示|设定)", r"(系统提示|越狱|开发者模式)", r"(其他|别的|所有)(顾客|客户|用户).{0,6}(订单|地址|信息|数据)",
    r"(客户|顾客|用户).{0,3}\d{3,}.{0,6}(订单|地址|信息)",
]
_INJECTION_RE = re.compile("|".join(f"(?:{p})" for p in _INJECTION), re.IGNORECASE)

_PII = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("CARD", re.compile(r"\b(?:\d[ -]?){13,19}\b")),
    ("PHONE", re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d(?!\w)")),
    ("POSTCODE", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", re.IGNORECASE)),
]

_PROMISE = re.compile(
    r"(refund|discount|voucher|coupon|compensat|free of charge|for free|% off|percent off|credit note|guarantee|promise|"
    r"by (monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow)|"
    r"退款|优惠|折扣|赔偿|补偿|代金券|免费|保证|承诺|明天|后天)",
    re.IGNORECASE,
)


def is_injection(text: str) -> bool:
    """True for attempts to override the assistant's rules or to reach another customer's data."""
    return bool(_INJECTION_RE.search(text or ""))


def redact(text: str) -> str:
    """The text with emails, card and phone numbers and UK postcodes replaced by [KIND], for logs."""
    out = text or ""
    for kind, pattern in _PII:
        out = pattern.sub(f"[{kind}]", out)
    return out


def unsupported_promises(answer: str, passages: list[str]) -> list[str]:
    """Promise words (refund, discount, tomorrow...) the answer uses that no passage uses."""
    source = " ".join(passages).lower()
    found = {m.group(0).lower() for m in _PROMISE.finditer(answer or "")}
    return sorted(word for word in found if word not in source)
