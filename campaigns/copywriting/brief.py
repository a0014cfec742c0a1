"""What a copy prompt may know about a campaign: its audience in aggregate words (rules, size,
segment mix with the segments' own descriptions), its featured products (names and prices) and
its offer; plus the audience's names, only so the guardrails can refuse a prompt or draft that
holds one. No row of customer data goes into a brief."""
from __future__ import annotations

from django.conf import settings

from campaigns.audience import audience_queryset, criterion_get
from campaigns.copywriting.models import BrandVoice
from campaigns.models import Campaign
from campaigns.recommendations import recommendations_for
from customers.money import money_format
from mlcore.ml.copywriting.guardrails import VoiceRules
from mlcore.ml.copywriting.prompts import CopyBrief
from mlcore.segments.selectors import segment_mix

FEATURED_PRODUCTS = 3


def brand_voice_get() -> BrandVoice:
    """The shop's brand voice (made with the defaults the first time it is asked for)."""
    return BrandVoice.objects.get_or_create(pk=1)[0]


def voice_rules(voice: BrandVoice) -> VoiceRules:
    return VoiceRules(
        tone=voice.tone, banned_words=BrandVoice.lines(voice.banned_words), banned_claims=BrandVoice.lines(voice.banned_claims),
        max_discount_percent=float(voice.max_discount_percent), subject_max_chars=voice.subject_max_chars, body_max_chars=voice.body_max_chars,
    )


def _rule_words(rule: dict) -> str:
    params = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(rule.get("params", {}).items()))
    label = criterion_get(rule["key"]).label.lower()
    return f"{label} ({params})" if params else label


def audience_sentences(campaign: Campaign) -> tuple[str, ...]:
    audience = audience_queryset(campaign.audience_rules)
    size = audience.count()
    rules = "; ".join(_rule_words(r) for r in campaign.audience_rules) or "every customer who agreed to e-mail"
    out = [f"{size} customers selected by: {rules}."]
    for seg in segment_mix(customer_ids=audience.values("pk"))[:3]:
        share = round(100 * seg["members"] / size) if size else 0
        out.append(f"{share}% are '{seg['name']}': {seg['description'].rstrip('.')}.")
    return tuple(out)


def campaign_brief(campaign: Campaign, voice: BrandVoice) -> CopyBrief:
    products = recommendations_for(None, FEATURED_PRODUCTS)
    return CopyBrief(
        campaign_name=campaign.name, audience=audience_sentences(campaign),
        products=tuple((p.title, money_format(p.price, settings.SHOP_CURRENCY) if p.price is not None else "") for p in products),
        offer=campaign.offer_text, tone=voice.tone, max_discount_percent=float(voice.max_discount_percent),
    )


def audience_names(campaign: Campaign) -> set[str]:
    """The audience's full names, for the guardrails only (never put into a prompt)."""
    names = audience_queryset(campaign.audience_rules).exclude(name="").values_list("name", flat=True)
    return {n.strip() for n in names if len(n.split()) >= 2}
