"""Attribution of conversions and the results report (funnel, uplift, A/B) on known cases."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import stats
from campaigns.models import Conversion, Delivery
from campaigns.selectors import campaign_report
from campaigns.services.attribution import conversions_attribute
from campaigns.services.tracking import delivery_click
from tests.campaigns.factories import CampaignFactory, DeliveryFactory, VariantFactory
from tests.customers.factories import CustomerFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db
T0 = timezone.make_aware(dt.datetime(2026, 5, 1, 10, 0))


def _order(customer, at, amount="20.00"):
    order = OrderFactory(customer=customer, placed_at=at)
    OrderLineFactory(order=order, unit_price=Decimal(amount), quantity=1)
    return order


def test_order_goes_to_the_last_clicked_campaign_within_its_window_once():
    # given a customer who clicked campaign A then B before ordering, plus orders before any click and after the window, when attribution runs twice, then only the in-window order is attributed, to B, once
    customer = CustomerFactory()
    a = DeliveryFactory(customer=customer, sent_at=T0, variant__campaign__conversion_window_days=7)
    b = DeliveryFactory(customer=customer, sent_at=T0, variant__campaign__conversion_window_days=7)
    before = _order(customer, T0 - dt.timedelta(hours=1))
    delivery_click(delivery_id=a.pk, url="https://x", at=T0 + dt.timedelta(hours=1))
    delivery_click(delivery_id=b.pk, url="https://x", at=T0 + dt.timedelta(hours=2))
    inside = _order(customer, T0 + dt.timedelta(hours=3), "35.50")
    outside = _order(customer, T0 + dt.timedelta(days=9))
    first = conversions_attribute(now=T0 + dt.timedelta(days=10))
    second = conversions_attribute(now=T0 + dt.timedelta(days=10))
    conversion = Conversion.objects.get()
    assert (first["attributed"], second["attributed"]) == (1, 0)
    assert conversion.order == inside and conversion.delivery == b and conversion.revenue == Decimal("35.50")
    assert not Conversion.objects.filter(order__in=[before, outside]).exists()


def _arm(campaign, variant, n, buyers, *, holdout=False, clicked=0):
    for i in range(n):
        customer = CustomerFactory()
        delivery = Delivery.objects.create(
            campaign=campaign, customer=customer, variant=None if holdout else variant, is_holdout=holdout,
            status=Delivery.Status.HOLDOUT if holdout else Delivery.Status.SENT, sent_at=None if holdout else T0,
            opened_at=T0 if i < clicked else None, clicked_at=T0 + dt.timedelta(minutes=5) if i < clicked else None,
        )
        if i < buyers:
            _order(customer, T0 + dt.timedelta(days=1))
            if i < clicked:
                Conversion.objects.create(order=customer.orders.get(), delivery=delivery, revenue=Decimal("20.00"), placed_at=T0)


def test_report_gives_funnel_uplift_with_ci_and_ab_verdict():
    # given 100 recipients in A (20 buyers, 30 clickers), 100 in B (10 buyers), 100 holdout (5 buyers) with 20.00 orders, when the report is built, then funnel, uplift and its 95% CI match the hand computation
    campaign = CampaignFactory(started_at=T0, conversion_window_days=7)
    a, b = VariantFactory(campaign=campaign, name="A"), VariantFactory(campaign=campaign, name="B")
    _arm(campaign, a, 100, 20, clicked=30)
    _arm(campaign, b, 100, 10)
    _arm(campaign, None, 100, 5, holdout=True)
    report = campaign_report(campaign_id=campaign.pk)
    funnel = {row["variant"]: row for row in report["funnel"]}
    assert funnel["A"] == {"variant": "A", "selected": 100, "sent": 100, "failed": 0, "suppressed": 0, "opened": 30, "clicked": 30, "converted": 20, "revenue": 400.0}
    assert funnel["holdout"]["sent"] == 0 and funnel["holdout"]["selected"] == 100
    uplift = report["uplift"]
    expected = stats.diff_proportions_ci(30, 200, 5, 100)
    assert uplift["conversion_uplift"]["estimate"] == pytest.approx(0.15 - 0.05)
    assert uplift["conversion_uplift"]["low"] == pytest.approx(expected.low)
    assert uplift["revenue_per_recipient_uplift"]["estimate"] == pytest.approx(600 / 200 - 100 / 100)
    assert uplift["recipients"]["n"] == 200 and uplift["holdout"]["converted"] == 5
    (ab,) = report["ab_tests"]
    assert (ab["variant"], ab["against"]) == ("B", "A")
    assert ab["p_value"] == pytest.approx(stats.two_proportion_ztest(10, 100, 20, 100)[1])
    assert round(ab["p_value"], 3) == 0.048 and ab["verdict"] == "significant"  # 10% vs 20% on 100 each


def test_report_of_a_campaign_without_holdout_says_too_small_to_tell():
    # given recipients but no holdout, when the report is built, then uplift has no interval and says too small to tell
    campaign = CampaignFactory(started_at=T0)
    _arm(campaign, VariantFactory(campaign=campaign), 5, 1)
    uplift = campaign_report(campaign_id=campaign.pk)["uplift"]
    assert uplift["conversion_uplift"] is None and uplift["too_small_to_tell"]
