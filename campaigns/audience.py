"""Audience rules: a registry of pluggable criteria, each a key, a JSON schema and a filter.

A campaign's `audience_rules` is a list of `{"key": <criterion key>, "params": {...}}`; the
audience is the customers matching ALL rules, always intersected with email consent (a
customer without consent is never selected, whatever the rules say). Adding a criterion is one
decorated function (see docs/campaigns.md):

    @register_criterion("churn_risk", label="Churn risk range", schema={...})
    def _churn_risk(params: dict) -> Q:
        return Q(pk__in=churn_scores_between(params["min"], params["max"]).values("customer_id"))
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

import jsonschema
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date

from customers.models import Customer, Order, OrderLine
from customers.selectors import category_choices, country_choices

CriterionFilter = Callable[[dict], Q]


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    schema: dict  # JSON schema of params
    filter: CriterionFilter  # params -> Q over Customer
    # (param name, callable -> the valid values) for criteria that name things the shop holds
    choices: tuple[str, Callable[[], list[tuple[str, str]]]] | None = None


_CRITERIA: dict[str, Criterion] = {}


def register_criterion(
    key: str, *, label: str, schema: dict, choices: tuple[str, Callable[[], list[tuple[str, str]]]] | None = None,
) -> Callable[[CriterionFilter], CriterionFilter]:
    """Register (or replace) the criterion `key`; the decorated function turns params into a Q.

    `choices` = (param, function returning (value, label) pairs): values of that param (a string
    or a list of strings) outside the list are refused, naming the valid ones.
    """

    def decorator(func: CriterionFilter) -> CriterionFilter:
        _CRITERIA[key] = Criterion(key=key, label=label, schema={"type": "object", **schema}, filter=func, choices=choices)
        return func

    return decorator


def criteria() -> list[Criterion]:
    return sorted(_CRITERIA.values(), key=lambda c: c.key)


def criterion_get(key: str) -> Criterion:
    try:
        return _CRITERIA[key]
    except KeyError:
        raise ValidationError(f"audience rule: unknown criterion {key!r}; known: {sorted(_CRITERIA)}") from None


def audience_rules_validate(rules, *, check_names: bool = True) -> list[dict]:
    """Check a rules list against each criterion's schema; errors name the rule index and field.

    `check_names` also refuses names the shop does not hold (segments, countries, categories):
    on when people write rules; off when a stored campaign is sent, so a segment that a later
    run no longer has selects nobody instead of stopping the dispatch of every campaign.
    """
    if not isinstance(rules, list):
        raise ValidationError("audience_rules: expected a list of {\"key\": ..., \"params\": {...}}")
    cleaned = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or "key" not in rule:
            raise ValidationError(f"audience_rules[{index}]: expected an object with a \"key\"")
        criterion = criterion_get(rule["key"])
        params = rule.get("params", {})
        try:
            jsonschema.validate(params, criterion.schema)
        except jsonschema.ValidationError as exc:
            where = ".".join(str(p) for p in exc.absolute_path) or "params"
            raise ValidationError(f"audience_rules[{index}] ({rule['key']}) {where}: {exc.message}") from None
        if check_names:
            _check_choices(index, criterion, params)
        cleaned.append({"key": rule["key"], "params": params})
    return cleaned


def _check_choices(index: int, criterion: Criterion, params: dict) -> None:
    """Refuse names the shop does not hold (a segment's display name instead of its key, say)."""
    if criterion.choices is None or criterion.choices[0] not in params:
        return
    param, valid_of = criterion.choices
    given = params[param] if isinstance(params[param], list) else [params[param]]
    valid = dict(valid_of())
    unknown = [value for value in given if value not in valid]
    if unknown:
        listed = ", ".join(value if label == value else f"{value} ({label})" for value, label in valid.items()) or "none yet"
        raise ValidationError(f"audience_rules[{index}] ({criterion.key}) {param}: unknown {', '.join(map(repr, unknown))}; valid: {listed}")


def audience_queryset(rules: list[dict]) -> QuerySet[Customer]:
    """The customers the rules select; consent and a non-empty address are always required."""
    qs = Customer.objects.emailable()
    for rule in audience_rules_validate(rules, check_names=False):
        qs = qs.filter(criterion_get(rule["key"]).filter(rule.get("params", {})))
    return qs


# --- built-in criteria on the shop's own data ---------------------------------------------

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_NUM = {"type": ["number", "null"], "minimum": 0}
_RANGE = {"properties": {"min": _NUM, "max": _NUM}, "additionalProperties": False, "anyOf": [{"required": ["min"]}, {"required": ["max"]}]}


def _start_of_day(value: str) -> datetime:
    day = parse_date(value)
    if day is None:
        raise ValidationError(f"audience rule: {value!r} is not a date (YYYY-MM-DD)")
    return timezone.make_aware(datetime.combine(day, time.min))


def _range_q(per_customer: QuerySet, params: dict) -> Q:
    """Customers whose per-customer aggregate `value` lies in [min, max]; none counts as 0."""
    low, high = params.get("min"), params.get("max")
    q = Q()
    if low is not None and low > 0:
        q &= Q(pk__in=per_customer.filter(value__gte=low).values("customer_id"))
    if high is not None:
        q &= ~Q(pk__in=per_customer.filter(value__gt=high).values("customer_id"))
    return q


@register_criterion("consent", label="Consented to email (always applied)", schema={"additionalProperties": False})
def _consent(params: dict) -> Q:
    return Q(email_consent=True) & ~Q(email="")


def _pairs(values: list[str]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


@register_criterion("country", label="Country is one of", schema={
    "properties": {"countries": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
    "required": ["countries"], "additionalProperties": False,
}, choices=("countries", lambda: _pairs(country_choices())))
def _country(params: dict) -> Q:
    return Q(country__in=params["countries"])


def _last_orders() -> QuerySet:
    return Order.objects.purchases().filter(customer__isnull=False).values("customer_id").annotate(value=Max("placed_at"))


@register_criterion("last_order_before", label="Last order before (date)", schema={
    "properties": {"date": _DATE}, "required": ["date"], "additionalProperties": False,
})
def _last_order_before(params: dict) -> Q:
    return Q(pk__in=_last_orders().filter(value__lt=_start_of_day(params["date"])).values("customer_id"))


@register_criterion("last_order_after", label="Last order on or after (date)", schema={
    "properties": {"date": _DATE}, "required": ["date"], "additionalProperties": False,
})
def _last_order_after(params: dict) -> Q:
    return Q(pk__in=_last_orders().filter(value__gte=_start_of_day(params["date"])).values("customer_id"))


@register_criterion("has_bought_category", label="Has bought from category", schema={
    "properties": {"categories": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
    "required": ["categories"], "additionalProperties": False,
}, choices=("categories", lambda: _pairs(category_choices())))
def _has_bought_category(params: dict) -> Q:
    lines = OrderLine.objects.sales().filter(product__category__in=params["categories"], order__customer__isnull=False)
    return Q(pk__in=lines.values("order__customer_id"))


@register_criterion("order_count", label="Number of orders (range)", schema=_RANGE)
def _order_count(params: dict) -> Q:
    per_customer = Order.objects.purchases().filter(customer__isnull=False).values("customer_id").annotate(value=Count("id"))
    return _range_q(per_customer, params)


@register_criterion("spend", label="Net spend (range)", schema=_RANGE)
def _spend(params: dict) -> Q:
    return _range_q(OrderLine.objects.net_spend_per_customer(), params)
