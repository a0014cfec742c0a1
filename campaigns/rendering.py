"""Rendering of campaign mail and landing pages: personalisation, tracked links, headers.

Subject, HTML and text bodies are Django templates, compiled once per variant and process.
Context: customer (name, first_name, email, country, external_id), recommendations (product_id,
sku, title, price as "£12.50" in SHOP_CURRENCY (customers.money), image_url, url, score, reason, review_summary: what
customers say, mlcore's checked summary, "" when the product has none), discount_code, offer, landing_url,
unsubscribe_url. Products and the customer are plain dicts: the template engine resolves a dict
key at once where an attribute costs it a failed item lookup first.
"""
from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.template import Engine, Template, TemplateSyntaxError, engines
from django.utils.html import escape

from campaigns import links
from campaigns.mime import CampaignEmail
from campaigns.models import Campaign, Variant
from campaigns.recommendations import recommendations_for
from customers.models import Customer
from customers.money import money_format
from mlcore.feedback.selectors import review_summary_texts

_HREF_RE = re.compile(r'href="(https?://[^"]+)"')
_TEXT_URL_RE = re.compile(r"https?://[^\s<>\"']+")
_TEMPLATES: dict[tuple, tuple] = {}
_SUMMARIES: list = [0.0, {}]  # (loaded at, product id -> review summary text)
_SUMMARIES_TTL_S = 300.0


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    html: str
    text: str
    message_id: str
    headers: dict


def _plain(source: str) -> str:
    """Subject and text body are not HTML: no escaping of quotes or ampersands."""
    return "{% autoescape off %}" + source + "{% endautoescape %}"


def _compiled(variant: Variant) -> tuple:
    key = (variant.pk, hash((variant.subject, variant.html_body, variant.text_body)))
    if key not in _TEMPLATES:
        engine = engines["django"]
        _TEMPLATES[key] = (engine.from_string(_plain(variant.subject)), engine.from_string(variant.html_body), engine.from_string(_plain(variant.text_body)))
    return _TEMPLATES[key]


def _checking_engine() -> Engine:
    """The site's template engine with debug on, so a syntax error carries its line."""
    site = engines["django"].engine
    extra = [b for b in site.builtins if b not in Engine.default_builtins]
    return Engine(debug=True, libraries=site.libraries, builtins=extra, autoescape=site.autoescape)


def template_error(source: str) -> str | None:
    """None if `source` compiles as a Django template, else the error with its line number."""
    try:
        Template(source, engine=_checking_engine())
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line")
        return f"line {line}: {exc}" if line else str(exc)
    return None


def variant_templates_check(*, subject: str, html_body: str, text_body: str, label: str = "variant") -> None:
    """Refuse templates that do not compile, naming the field and the line."""
    errors = {name: error for name, source in (("subject", subject), ("html_body", html_body), ("text_body", text_body)) if (error := template_error(source))}
    if errors:
        raise ValidationError({name: f"{label} {name}: {error}" for name, error in errors.items()})


def message_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"


def message_id(campaign_id: int, delivery_id: int | None) -> str:
    """The idempotency key: the same delivery always carries the same Message-ID."""
    return f"<campaign{campaign_id}.delivery{delivery_id or 'test'}@{message_domain()}>"


def message_id_expression() -> Concat:
    """message_id() of a Delivery row as SQL, for the claim that writes it on 500 rows at once."""
    return Concat(Value("<campaign"), Cast("campaign_id", CharField()), Value(".delivery"), Cast("id", CharField()), Value(f"@{message_domain()}>"))


def _customer_context(customer: Customer | None) -> dict:
    if customer is None:
        return {"name": "", "first_name": "", "email": "", "country": "", "external_id": ""}
    return {
        "name": customer.name, "first_name": (customer.name or "").split(" ")[0], "email": customer.email,
        "country": customer.country, "external_id": customer.external_id,
    }


def review_summary_text(product_id: int) -> str:
    """The product's review summary, from all summaries loaded in one query every few minutes."""
    if time.monotonic() - _SUMMARIES[0] > _SUMMARIES_TTL_S:
        _SUMMARIES[:] = [time.monotonic(), review_summary_texts()]
    return _SUMMARIES[1].get(product_id, "")


def review_summaries_cache_clear() -> None:
    _SUMMARIES[:] = [0.0, {}]


def _template_product(product) -> dict:
    price = getattr(product, "price", None)
    return {
        "product_id": product.product_id, "sku": product.sku, "title": product.title, "price": "" if price is None else money_format(price, settings.SHOP_CURRENCY),
        "image_url": product.image_url, "url": product.url or links.product_url(product.sku), "score": product.score, "reason": product.reason,
        # a callable: the template engine calls it only where a template names it, so mail without it costs no query
        "review_summary": functools.partial(review_summary_text, product.product_id),
    }


def context_for(campaign: Campaign, customer: Customer | None, delivery_id: int | None, recommendations: list | None = None) -> dict:
    """The personalisation context of one customer (customer None: the generic version).

    `recommendations` given: the batch already fetched them (sending); None: asked here.
    """
    customer_id = customer.pk if customer else None
    if recommendations is None:
        recommendations = recommendations_for(customer_id, campaign.recommendations_count)
    recommendations = [_template_product(p) for p in recommendations]
    return {
        "customer": _customer_context(customer),
        "recommendations": recommendations,
        "discount_code": links.discount_code(campaign.discount_prefix, campaign.pk, customer_id) if customer_id else "",
        "offer": campaign.offer_text,
        "campaign": {"name": campaign.name, "slug": campaign.slug},
        "landing_url": links.landing_url(campaign.slug, delivery_id),
        "unsubscribe_url": links.unsubscribe_url(delivery_id) if delivery_id else links.absolute("/u/preview/"),
    }


def _track(body: str, delivery_id: int | None, skip: set[str], pattern: re.Pattern, html: bool, signed: dict | None = None) -> str:
    """Every link through a signed click redirect; `signed` memoises URLs met twice in one message."""
    if not delivery_id:
        return body
    signed = {} if signed is None else signed

    def replace(match: re.Match) -> str:
        url = match.group(1) if html else match.group(0)
        if url in skip:
            return match.group(0)
        target = url.replace("&amp;", "&") if html else url
        if target not in signed:
            signed[target] = links.tracked_url(delivery_id, target)
        return f'href="{signed[target]}"' if html else signed[target]

    return pattern.sub(replace, body)


def _with_footer(html: str, text: str, unsubscribe: str, pixel: str | None) -> tuple[str, str]:
    """Every message shows an unsubscribe link even if the template forgot one; HTML gets the pixel."""
    if unsubscribe not in html:
        html += f'<p style="font-size:12px"><a href="{escape(unsubscribe)}">Unsubscribe</a></p>'
    if pixel:
        html += f'<img src="{escape(pixel)}" width="1" height="1" alt="" style="display:none">'
    if unsubscribe not in text:
        text += f"\n\nUnsubscribe: {unsubscribe}\n"
    return html, text


def message_render(
    *, campaign: Campaign, variant: Variant, customer: Customer | None, delivery_id: int | None, recommendations: list | None = None
) -> RenderedMessage:
    """Render one message; with a delivery id every link is tracked and signed for it."""
    subject_t, html_t, text_t = _compiled(variant)
    context = context_for(campaign, customer, delivery_id, recommendations)
    subject = " ".join(subject_t.render(context).split())
    html, text = html_t.render(context), text_t.render(context)
    unsubscribe = context["unsubscribe_url"]
    skip, signed = {unsubscribe}, {}
    html = _track(html, delivery_id, skip, _HREF_RE, html=True, signed=signed)
    text = _track(text, delivery_id, skip, _TEXT_URL_RE, html=False, signed=signed)
    html, text = _with_footer(html, text, unsubscribe, links.open_pixel_url(delivery_id) if delivery_id else None)
    mailto = f"mailto:{settings.DEFAULT_FROM_EMAIL}?subject=unsubscribe"
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Campaign": str(campaign.pk),
    }
    return RenderedMessage(subject=subject, html=html, text=text, message_id=message_id(campaign.pk, delivery_id), headers=headers)


def email_build(rendered: RenderedMessage, *, to: str, from_email: str, connection=None) -> EmailMultiAlternatives:
    headers = {**rendered.headers, "Message-ID": rendered.message_id}
    message = CampaignEmail(rendered.subject, rendered.text, from_email, [to], headers=headers, connection=connection)
    message.attach_alternative(rendered.html, "text/html")
    return message


def landing_render(*, campaign: Campaign, customer: Customer | None, delivery_id: int | None) -> str:
    context = context_for(campaign, customer, delivery_id)
    context["personalised"] = customer is not None
    source = campaign.landing_html or _DEFAULT_LANDING
    html = engines["django"].from_string(source).render(context)
    return _track(html, delivery_id, {context["unsubscribe_url"]}, _HREF_RE, html=True)


_DEFAULT_LANDING = """<!doctype html><html><head><meta charset="utf-8"><title>{{ campaign.name }}</title></head>
<body><h1>{% if personalised %}Hello {{ customer.first_name }}{% else %}Welcome{% endif %}</h1>
{% if offer %}<p>{{ offer }}</p>{% endif %}{% if discount_code %}<p>Your code: <strong>{{ discount_code }}</strong></p>{% endif %}
<ul>{% for p in recommendations %}<li><a href="{{ p.url }}">{% if p.image_url %}<img src="{{ p.image_url }}" alt="" width="80">{% endif %}{{ p.title }}</a> {{ p.price }}</li>{% endfor %}</ul>
</body></html>"""
