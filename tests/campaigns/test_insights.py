"""Audience criteria and the recommendation provider backed by mlcore, on real pipeline output."""
import datetime as dt

import pytest
from django.utils import timezone

from campaigns.audience import audience_queryset
from campaigns.recommendations import recommendations_for as personal_recommendations
from customers.models import Customer, Review
from mlcore.models import CustomerScore, ReviewSentiment, SegmentMembership
from mlcore.registry import services as registry
from mlcore.segments.services import segmentation_run_build
from tests.customers.factories import CustomerFactory, OrderLineFactory, ProductFactory
from tests.mlcore.segment_shop import SNAPSHOT, make_shop

pytestmark = pytest.mark.django_db


def consent_all() -> None:
    for customer in Customer.objects.all():
        customer.email, customer.email_consent = f"{customer.external_id}@example.com", True
        customer.save(update_fields=["email", "email_consent"])


def test_segment_criterion_selects_the_members_of_the_latest_run():
    # given a real segmentation run over a small shop, when a campaign aims at the best customers' segment, then exactly its consenting members
    ids = make_shop()
    consent_all()
    run_id = segmentation_run_build(snapshot_at=SNAPSHOT)
    best_key = SegmentMembership.objects.get(run_id=run_id, customer_id=ids["best"][0]).segment.key
    members = set(SegmentMembership.objects.filter(run_id=run_id, segment__key=best_key).values_list("customer_id", flat=True))
    audience = set(audience_queryset([{"key": "segment", "params": {"keys": [best_key]}}]).values_list("pk", flat=True))
    assert audience == members and set(ids["best"]) <= audience


def test_segment_criterion_never_selects_without_consent():
    # given a segmented shop where nobody consented, when aimed at any segment, then nobody is selected
    make_shop()
    run_id = segmentation_run_build(snapshot_at=SNAPSHOT)
    keys = list(SegmentMembership.objects.filter(run_id=run_id).values_list("segment__key", flat=True).distinct())
    assert not audience_queryset([{"key": "segment", "params": {"keys": keys}}]).exists()


def scored(customer, churn: float, value: float, version) -> None:
    CustomerScore.objects.create(customer=customer, model_version=version, churn_probability=churn, expected_value_12m=value, scored_at=timezone.now())


def test_churn_and_value_ranges_use_the_active_churn_model():
    # given scores of the active and of an inactive churn version, when aimed at high risk and high value, then only active scores count
    active = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj=1)
    old = registry.model_version_save_object(version_id=registry.model_version_create(kind="churn").pk, obj=2)
    registry.model_version_activate(version_id=active.pk)
    risky_valuable, risky_cheap, safe = CustomerFactory(), CustomerFactory(), CustomerFactory()
    scored(risky_valuable, 0.9, 500.0, active)
    scored(risky_cheap, 0.8, 20.0, active)
    scored(safe, 0.1, 900.0, active)
    scored(safe, 0.95, 900.0, old)
    rules = [{"key": "churn_risk", "params": {"min": 0.7}}, {"key": "lifetime_value", "params": {"min": 100}}]
    assert list(audience_queryset(rules)) == [risky_valuable]


def test_recent_negative_review_excludes_the_customer():
    # given one customer with a fresh negative review and one with an old one, when excluded for 30 days, then only the fresh one drops
    fresh, old = CustomerFactory(), CustomerFactory()
    product = ProductFactory()
    for customer, age in ((fresh, 3), (old, 90)):
        review = Review.objects.create(product=product, customer=customer, rating=1, text="Broke at once", language="en",
                                       created_at=timezone.now() - dt.timedelta(days=age))
        ReviewSentiment.objects.create(review=review, language="en", score=-0.9, label="negative", method="fallback", scored_at=timezone.now())
    audience = set(audience_queryset([{"key": "no_recent_negative_review", "params": {"days": 30}}]))
    assert fresh not in audience and old in audience


def test_provider_falls_back_to_popular_products_before_the_recommender_ran():
    # given sales but no trained recommender, when a customer's products are asked for, then the shop's best sellers come
    line = OrderLineFactory(product=ProductFactory(sku="BEST"))
    items = personal_recommendations(line.order.customer_id, 3)
    assert [item.sku for item in items] == ["BEST"] and items[0].reason.startswith("Popular")


def test_provider_serves_the_trained_recommenders_stored_list(settings):
    # given a trained recommender, when a customer's products are asked for, then its stored list with reasons comes
    from mlcore.recommendations.selectors import recommendations_for_customer
    from mlcore.recommendations.services import recommender_train
    from tests.mlcore.recommend_shop import make_shop

    settings.RECOMMENDER_TOP_N = 5
    settings.RECOMMENDER_VALIDATION_DAYS = 90
    shop = make_shop()
    recommender_train(fast=True)
    customer_id = shop["customers"][0].pk
    items = personal_recommendations(customer_id, 3)
    assert [i.sku for i in items] == [i.sku for i in recommendations_for_customer(customer_id=customer_id, k=3)]
    assert len(items) == 3 and all(i.reason for i in items)
