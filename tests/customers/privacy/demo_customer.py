"""A customer with a row in every table that holds data on them (and a neighbour who must be left
alone), for export and erasure tests."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from campaigns.models import Conversion, DeliveryEvent, Suppression
from customers.models import Customer, Event
from customers.services import customer_set_consent
from mlcore.models import (
    CustomerFeatures,
    CustomerScore,
    FeatureSnapshot,
    ModelVersion,
    RecommendationList,
    ReviewAlert,
    ReviewAspect,
    ReviewSentiment,
    Segment,
    SegmentationRun,
    SegmentMembership,
)
from tests.campaigns.factories import DeliveryFactory
from tests.customers.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory, ReviewFactory

T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


@dataclass
class Demo:
    customer: Customer
    neighbour: Customer
    trained_on_them: list[ModelVersion]
    not_trained_on_them: list[ModelVersion]


def _version(kind: str, version: int, start, end, status="ready") -> ModelVersion:
    return ModelVersion.objects.create(kind=kind, version=version, status=status, data_window_start=start, data_window_end=end)


def _shared() -> dict:
    versions = {"churn": _version("churn", 1, T0 - dt.timedelta(days=365), T0 + dt.timedelta(days=90)),
                "recommender": _version("recommender", 1, None, T0 + dt.timedelta(days=90))}
    run = SegmentationRun.objects.create(snapshot_at=T0 + dt.timedelta(days=60), status="ready", k=1, customer_count=2)
    return {**versions, "snapshot": FeatureSnapshot.objects.create(snapshot_at=T0 + dt.timedelta(days=60), status="ready"),
            "segment": Segment.objects.create(run=run, key="champions", name="Champions", position=0, size=2)}


def _insights(customer: Customer, product, review, versions: dict) -> None:
    CustomerFeatures.objects.create(snapshot=versions["snapshot"], customer=customer, recency_days=3.0, frequency=2.0, monetary=41.5)
    SegmentMembership.objects.create(run=versions["segment"].run, customer=customer, segment=versions["segment"])
    CustomerScore.objects.create(customer=customer, model_version=versions["churn"], churn_probability=0.71, reason="churn risk high", scored_at=timezone.now())
    RecommendationList.objects.create(model_version=versions["recommender"], customer=customer, items=[[product.pk, 0.9, "you bought this once"], [ProductFactory().pk, 0.5, "popular in the shop"]])
    ReviewSentiment.objects.create(review=review, language="en", score=-0.8, label="negative", method="fallback", scored_at=timezone.now())
    ReviewAspect.objects.create(review=review, aspect="quality", score=-0.7, label="negative")
    ReviewAlert.objects.create(review=review, customer=customer, reason="Negative review by a high-value customer")


def _campaigns(customer: Customer, order) -> None:
    delivery = DeliveryFactory(customer=customer, email=customer.email, message_id="<m1@shop>", opened_at=timezone.now(), open_count=1)
    DeliveryEvent.objects.create(delivery=delivery, kind="open", occurred_at=timezone.now())
    DeliveryEvent.objects.create(delivery=delivery, kind="click", url="https://shop.example.com/sale", occurred_at=timezone.now())
    Conversion.objects.create(order=order, delivery=delivery, revenue=Decimal("41.50"), placed_at=order.placed_at)
    Suppression.objects.create(email=customer.email, reason="unsubscribe")


def _person(external_id: str, name: str, versions: dict) -> Customer:
    customer = CustomerFactory(external_id=external_id, name=name, email=f"{external_id.lower()}@example.com", country="United Kingdom")
    customer_set_consent(customer_id=customer.pk, consented=False, source="unsubscribe", at=T0 + dt.timedelta(days=40))
    product = ProductFactory()
    order = OrderFactory(customer=customer, placed_at=T0 + dt.timedelta(days=10))
    OrderLineFactory(order=order, product=product, line_no=1, quantity=2, unit_price=Decimal("12.50"))
    OrderLineFactory(order=order, product=product, line_no=2, quantity=1, unit_price=Decimal("16.50"))
    review = ReviewFactory(customer=customer, product=product, rating=1, title="Broke", text=f"{name} here: it broke in a week.", created_at=T0 + dt.timedelta(days=20))
    Event.objects.create(customer=customer, kind="view", product=product, occurred_at=T0 + dt.timedelta(days=9), properties={"ip": "192.0.2.7"})
    _insights(customer, product, review, versions)
    _campaigns(customer, order)
    return customer


def demo_customer() -> Demo:
    """Dana (the subject) and Fox (the neighbour), with models trained before, over and after their data."""
    versions = _shared()
    trained = [versions["churn"], versions["recommender"], _version("sentiment_en", 1, None, T0 + dt.timedelta(days=30)),
               _version("segmentation", 1, None, None)]
    untouched = [_version("churn", 2, T0 - dt.timedelta(days=365), T0),  # ended before their first order
                 _version("sentiment_en", 2, None, T0 + dt.timedelta(days=15)),  # ended before their review
                 _version("churn", 3, None, T0 + dt.timedelta(days=90), status="failed")]
    dana = _person("DANA-1", "Dana Scully", versions)
    fox = _person("FOX-2", "Fox Mulder", versions)
    return Demo(customer=dana, neighbour=fox, trained_on_them=trained, not_trained_on_them=untouched)
