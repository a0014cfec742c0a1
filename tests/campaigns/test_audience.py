"""Audience rules: built-in criteria on the shop's data, consent always required, plug-ins."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from campaigns import audience
from campaigns.audience import audience_queryset, audience_rules_validate, register_criterion
from customers.models import Order
from tests.customers.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _ids(rules):
    return set(audience_queryset(rules).values_list("external_id", flat=True))


def _order(customer, days_ago: int, amount: str = "10.00", category: str = "Home", status: str = Order.Status.PLACED):
    order = OrderFactory(customer=customer, placed_at=timezone.now() - dt.timedelta(days=days_ago), status=status)
    OrderLineFactory(order=order, product=ProductFactory(category=category), unit_price=Decimal(amount))
    return order


def test_consent_is_required_even_without_rules():
    # given customers with and without consent or address, when no rules are given, then only consenting ones with an address are selected
    CustomerFactory(external_id="yes")
    CustomerFactory(external_id="no", email_consent=False)
    CustomerFactory(external_id="blank", email="")
    assert _ids([]) == {"yes"}


def test_country_rule_selects_listed_countries():
    # given customers in two countries, when the rule lists one, then only that country's consenting customers are selected
    CustomerFactory(external_id="uk", country="United Kingdom")
    CustomerFactory(external_id="fr", country="France")
    CustomerFactory(external_id="fr-no", country="France", email_consent=False)
    assert _ids([{"key": "country", "params": {"countries": ["France"]}}]) == {"fr"}


def test_last_order_before_and_after_use_the_latest_non_cancelled_order():
    # given a recent buyer, a lapsed buyer whose only recent order was cancelled, and a never-buyer, when filtering by last order date, then each lands on the right side
    recent, lapsed = CustomerFactory(external_id="recent"), CustomerFactory(external_id="lapsed")
    CustomerFactory(external_id="never")
    _order(recent, 5)
    _order(lapsed, 200)
    _order(lapsed, 2, status=Order.Status.CANCELLED)
    cut = (timezone.now() - dt.timedelta(days=90)).date().isoformat()
    assert _ids([{"key": "last_order_before", "params": {"date": cut}}]) == {"lapsed"}
    assert _ids([{"key": "last_order_after", "params": {"date": cut}}]) == {"recent"}


def test_has_bought_category_ignores_returns():
    # given one buyer of Garden and one who only has a return line of Garden, when filtering by category, then only the buyer is selected
    buyer, returner = CustomerFactory(external_id="buyer"), CustomerFactory(external_id="returner")
    _order(buyer, 3, category="Garden")
    order = OrderFactory(customer=returner)
    OrderLineFactory(order=order, product=ProductFactory(category="Garden"), quantity=-1)
    assert _ids([{"key": "has_bought_category", "params": {"categories": ["Garden"]}}]) == {"buyer"}


def test_order_count_and_spend_ranges_include_zero_when_min_is_absent():
    # given customers with 0, 1 and 3 orders of 10.00, when filtering by ranges, then bounds are inclusive and no orders counts as zero
    none, one, three = (CustomerFactory(external_id=x) for x in ("none", "one", "three"))
    _order(one, 1)
    for days in (1, 2, 3):
        _order(three, days)
    assert _ids([{"key": "order_count", "params": {"max": 1}}]) == {"none", "one"}
    assert _ids([{"key": "order_count", "params": {"min": 2}}]) == {"three"}
    assert _ids([{"key": "spend", "params": {"min": 5, "max": 10}}]) == {"one"}
    assert _ids([{"key": "spend", "params": {"min": 30}}]) == {"three"}


def test_rules_combine_with_and():
    # given a French buyer and a French non-buyer, when country and order count rules are combined, then only the buyer is selected
    buyer = CustomerFactory(external_id="fr-buyer", country="France")
    CustomerFactory(external_id="fr-none", country="France")
    _order(buyer, 1)
    assert _ids([{"key": "country", "params": {"countries": ["France"]}}, {"key": "order_count", "params": {"min": 1}}]) == {"fr-buyer"}


@pytest.mark.parametrize("rules, message", [
    ([{"key": "nope"}], "unknown criterion 'nope'"),
    ([{"key": "country", "params": {}}], "audience_rules[0] (country) params: 'countries' is a required property"),
    ([{"key": "order_count", "params": {"min": 1}}, {"key": "spend", "params": {"min": -1}}], "audience_rules[1] (spend) min"),
        ([{"key": "country", "params": {"countries": ["Atlantis"]}}], "audience_rules[0] (country) countries: unknown 'Atlantis'; valid: "),
    ([{"key": "last_order_after", "params": {"date": "01/02/2024"}}], "audience_rules[0] (last_order_after) date"),
    ({"key": "country"}, "expected a list"),
])
def test_bad_rules_are_refused_naming_the_rule_and_field(rules, message):
    # given malformed rules, when validated, then the error names the rule index and field
    with pytest.raises(ValidationError) as error:
        audience_rules_validate(rules)
    assert message in str(error.value)


def test_a_new_criterion_plugs_in_with_one_decorated_function():
    # given a criterion registered at run time, when a rule uses it, then it filters the audience and consent still applies
    CustomerFactory(external_id="vip-1", name="VIP Ann")
    CustomerFactory(external_id="vip-2", name="VIP Bo", email_consent=False)
    CustomerFactory(external_id="plain", name="Cy")

    @register_criterion("name_prefix", label="Name starts with", schema={"properties": {"prefix": {"type": "string"}}, "required": ["prefix"]})
    def _name_prefix(params):
        return Q(name__startswith=params["prefix"])

    try:
        assert _ids([{"key": "name_prefix", "params": {"prefix": "VIP"}}]) == {"vip-1"}
        assert "name_prefix" in [c.key for c in audience.criteria()]
    finally:
        audience._CRITERIA.pop("name_prefix")


def test_a_stored_rule_naming_a_vanished_segment_selects_nobody_instead_of_failing():
    # given a rule whose segment key no run holds any more, when the audience is selected at send time, then it is empty (writing such a rule is refused)
    CustomerFactory()
    rules = [{"key": "segment", "params": {"keys": ["gone-segment"]}}]
    with pytest.raises(ValidationError, match="unknown 'gone-segment'"):
        audience_rules_validate(rules)
    assert audience_rules_validate(rules, check_names=False) == rules and not audience_queryset(rules).exists()
