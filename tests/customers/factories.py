from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import Customer, Event, Order, OrderLine, Product, Review


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"C{n:05d}")
    email = factory.LazyAttribute(lambda o: f"{o.external_id.lower()}@example.com")
    name = factory.Sequence(lambda n: f"Customer {n}")
    country = "United Kingdom"
    first_seen = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=400))
    email_consent = True
    email_consent_at = factory.LazyFunction(timezone.now)
    email_consent_source = "import"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    description = "A product"
    category = "Home"
    price = Decimal("4.95")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    external_id = factory.Sequence(lambda n: f"O{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    placed_at = factory.LazyFunction(timezone.now)
    currency = "GBP"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_no = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = Decimal("4.95")


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    rating = 5
    title = "Lovely"
    text = "Fits well and looks great."
    language = "en"
    created_at = factory.LazyFunction(timezone.now)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    customer = factory.SubFactory(CustomerFactory)
    kind = "view"
    occurred_at = factory.LazyFunction(timezone.now)
