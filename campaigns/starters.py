"""Starting templates a marketer picks when creating a campaign: welcome, win-back and
"picked for you" (personal recommendations). Each fills the campaign's first variant and a few
campaign fields; everything stays editable. The context they use is described in rendering.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

_FOOTER_HTML = '<p style="font-size:12px;color:#666">You get this because you shop with us. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
_FOOTER_TEXT = "Unsubscribe: {{ unsubscribe_url }}"
_PRODUCTS_HTML = """<table role="presentation" cellpadding="6">{% for p in recommendations %}<tr>
<td>{% if p.image_url %}<a href="{{ p.url }}"><img src="{{ p.image_url }}" width="96" alt=""></a>{% endif %}</td>
<td><a href="{{ p.url }}">{{ p.title }}</a>{% if p.price %}<br>{{ p.price }}{% endif %}</td>
</tr>{% endfor %}</table>"""
_PRODUCTS_TEXT = """{% for p in recommendations %}- {{ p.title }}{% if p.price %} ({{ p.price }}){% endif %}: {{ p.url }}
{% endfor %}"""


@dataclass(frozen=True)
class Starter:
    key: str
    label: str
    subject: str
    html_body: str
    text_body: str
    campaign: dict = field(default_factory=dict)  # initial campaign fields (name, offer_text, ...)


STARTERS: dict[str, Starter] = {s.key: s for s in (
    Starter(
        key="welcome", label="Welcome",
        subject="Welcome, {{ customer.first_name|default:'and thank you' }}",
        html_body="""<h1>Welcome{% if customer.first_name %}, {{ customer.first_name }}{% endif %}!</h1>
<p>Thank you for your first order. {{ offer }}</p>
{% if discount_code %}<p>Your code for next time: <strong>{{ discount_code }}</strong></p>{% endif %}
<p>Some favourites of other customers:</p>
""" + _PRODUCTS_HTML + "\n" + _FOOTER_HTML,
        text_body="""Welcome{% if customer.first_name %}, {{ customer.first_name }}{% endif %}!
Thank you for your first order. {{ offer }}
{% if discount_code %}Your code for next time: {{ discount_code }}
{% endif %}
""" + _PRODUCTS_TEXT + "\n" + _FOOTER_TEXT,
        campaign={"name": "Welcome", "offer_text": "We are glad you found us.", "recommendations_count": 3},
    ),
    Starter(
        key="winback", label="Win-back",
        subject="{{ customer.first_name|default:'Hello' }}, we miss you",
        html_body="""<h1>It has been a while{% if customer.first_name %}, {{ customer.first_name }}{% endif %}</h1>
<p>{{ offer }}</p>
{% if discount_code %}<p>Use <strong>{{ discount_code }}</strong> at checkout.</p>{% endif %}
<p><a href="{{ landing_url }}">See what is new</a></p>
""" + _PRODUCTS_HTML + "\n" + _FOOTER_HTML,
        text_body="""It has been a while{% if customer.first_name %}, {{ customer.first_name }}{% endif %}.
{{ offer }}
{% if discount_code %}Use {{ discount_code }} at checkout.
{% endif %}See what is new: {{ landing_url }}
""" + _PRODUCTS_TEXT + "\n" + _FOOTER_TEXT,
        campaign={"name": "Win-back", "offer_text": "15% off your next order, this week only.", "discount_prefix": "BACK", "recommendations_count": 3},
    ),
    Starter(
        key="picked", label="Picked for you (recommendations)",
        subject="{{ customer.first_name|default:'Hello' }}, we picked these for you",
        html_body="""<h1>Picked for you{% if customer.first_name %}, {{ customer.first_name }}{% endif %}</h1>
<p>{{ offer }}</p>
""" + _PRODUCTS_HTML + """
<p><a href="{{ landing_url }}">See everything we picked for you</a></p>
""" + _FOOTER_HTML,
        text_body="""Picked for you{% if customer.first_name %}, {{ customer.first_name }}{% endif %}
{{ offer }}
""" + _PRODUCTS_TEXT + """
Everything we picked for you: {{ landing_url }}
""" + _FOOTER_TEXT,
        campaign={"name": "Picked for you", "offer_text": "Chosen from what you bought before.", "recommendations_count": 4},
    ),
)}


def starter_variant(key: str) -> dict:
    """The first variant's fields of a starter (unknown key: KeyError)."""
    starter = STARTERS[key]
    return {"name": "A", "share": 100, "subject": starter.subject, "html_body": starter.html_body, "text_body": starter.text_body}
