"""Create (once) a draft demo campaign: two variants with recommendations, a discount code and
a landing page, aimed at consenting customers who have ordered at least once."""
from __future__ import annotations

from django.core.management import BaseCommand

from campaigns.models import Campaign
from campaigns.services.lifecycle import campaign_create

HTML = """<h1>Hello {{ customer.first_name|default:"there" }}</h1>
<p>{{ offer }}{% if discount_code %} Use code <strong>{{ discount_code }}</strong> at checkout.{% endif %}</p>
<table>{% for p in recommendations %}<tr><td><a href="{{ p.url }}">{% if p.image_url %}<img src="{{ p.image_url }}" width="120" alt="">{% endif %}</a></td>
<td><a href="{{ p.url }}">{{ p.title }}</a><br>{{ p.price }}</td></tr>{% endfor %}</table>
<p><a href="{{ landing_url }}">See everything we picked for you</a></p>
<p style="font-size:12px"><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>"""
TEXT = """Hello {{ customer.first_name|default:"there" }},
{{ offer }}{% if discount_code %} Code: {{ discount_code }}{% endif %}
{% for p in recommendations %}- {{ p.title }} ({{ p.price }}): {{ p.url }}
{% endfor %}
Your page: {{ landing_url }}
Unsubscribe: {{ unsubscribe_url }}"""


class Command(BaseCommand):
    help = "Create the demo draft campaign 'We picked these for you' (idempotent)."

    def handle(self, *args, **options):
        if Campaign.objects.filter(slug="demo-picked-for-you").exists():
            self.stdout.write("Demo campaign exists already.")
            return
        campaign = campaign_create(
            name="We picked these for you", slug="demo-picked-for-you", offer_text="10% off your next order this week.",
            discount_prefix="PICKED", recommendations_count=4, throttle_per_minute=600,
            audience_rules=[{"key": "order_count", "params": {"min": 1}}],
            variants=[
                {"name": "A", "share": 50, "subject": "{{ customer.first_name|default:'Hello' }}, we picked these for you", "html_body": HTML, "text_body": TEXT},
                {"name": "B", "share": 50, "subject": "10% off: new favourites inside", "html_body": HTML, "text_body": TEXT},
            ],
        )
        self.stdout.write(self.style.SUCCESS(f"Draft campaign #{campaign.pk} created: preview and schedule it in the admin."))
