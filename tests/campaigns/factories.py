from __future__ import annotations

import factory

from campaigns.models import Campaign, Delivery, Variant
from tests.customers.factories import CustomerFactory

HTML = """<p>Hello {{ customer.first_name }}, {{ offer }}</p>
{% if discount_code %}<p>Code: {{ discount_code }}</p>{% endif %}
<ul>{% for p in recommendations %}<li><a href="{{ p.url }}"><img src="{{ p.image_url }}" alt="">{{ p.title }}</a></li>{% endfor %}</ul>
<p><a href="https://shop.example.com/sale">Sale</a> <a href="{{ landing_url }}">Your page</a></p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>"""
TEXT = """Hello {{ customer.first_name }} & friends,
{% for p in recommendations %}- {{ p.title }}: {{ p.url }}
{% endfor %}Sale: https://shop.example.com/sale
Unsubscribe: {{ unsubscribe_url }}"""


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    seed = 42
    offer_text = "20% off this week"
    discount_prefix = "SPRING"
    recommendations_count = 2


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    campaign = factory.SubFactory(CampaignFactory)
    name = "A"
    share = 50
    subject = "{{ customer.first_name }}, picked for you"
    html_body = HTML
    text_body = TEXT


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    variant = factory.SubFactory(VariantFactory)
    campaign = factory.LazyAttribute(lambda o: o.variant.campaign)
    customer = factory.SubFactory(CustomerFactory)
    status = Delivery.Status.SENT
