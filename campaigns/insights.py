"""Audience criteria backed by mlcore's insights.

Segments, churn risk, lifetime value and recent negative reviews come
from mlcore's selectors; they plug into the criteria registry of campaigns.audience exactly like
the built-in criteria on orders. Importing this module registers them (campaigns.apps does).
"""
from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from campaigns.audience import register_criterion
from mlcore.feedback import selectors as feedback_selectors
from mlcore.predictions import selectors as prediction_selectors
from mlcore.segments import selectors as segment_selectors

_KEYS = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_PROBABILITY = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_MONEY = {"type": ["number", "null"], "minimum": 0}


def _range_schema(bound: dict) -> dict:
    return {
        "properties": {"min": bound, "max": bound}, "additionalProperties": False,
        "anyOf": [{"required": ["min"]}, {"required": ["max"]}],
    }


@register_criterion("segment", label="In segment (latest segmentation run)", schema={
    "properties": {"keys": _KEYS}, "required": ["keys"], "additionalProperties": False,
}, choices=("keys", segment_selectors.current_segments))
def _segment(params: dict) -> Q:
    return Q(pk__in=segment_selectors.customer_ids_in_segments(segment_keys=params["keys"]))


@register_criterion("entered_segment", label="Entered segment within the last N days", schema={
    "properties": {"key": {"type": "string", "minLength": 1}, "days": {"type": "integer", "minimum": 1}},
    "required": ["key"], "additionalProperties": False,
}, choices=("key", segment_selectors.current_segments))
def _entered_segment(params: dict) -> Q:
    since = timezone.now() - dt.timedelta(days=params.get("days", 7))
    return Q(pk__in=segment_selectors.customer_ids_entered_segment(segment_key=params["key"], since=since))


@register_criterion("churn_risk", label="Churn risk range (0-1, active churn model)", schema=_range_schema(_PROBABILITY))
def _churn_risk(params: dict) -> Q:
    ids = prediction_selectors.customer_ids_by_scores(churn_min=params.get("min"), churn_max=params.get("max"))
    return Q(pk__in=ids)


@register_criterion("lifetime_value", label="Expected 12-month value range", schema=_range_schema(_MONEY))
def _lifetime_value(params: dict) -> Q:
    ids = prediction_selectors.customer_ids_by_scores(clv_min=params.get("min"), clv_max=params.get("max"))
    return Q(pk__in=ids)


@register_criterion("expected_uplift", label="Expected uplift of the mail (conversion probability, -1 to 1, active uplift model)", schema=_range_schema(
    {"type": ["number", "null"], "minimum": -1, "maximum": 1}))
def _expected_uplift(params: dict) -> Q:
    return Q(pk__in=prediction_selectors.customer_ids_by_uplift(uplift_min=params.get("min"), uplift_max=params.get("max")))


@register_criterion("no_recent_negative_review", label="No negative review in the last N days", schema={
    "properties": {"days": {"type": "integer", "minimum": 1}}, "additionalProperties": False,
})
def _no_recent_negative_review(params: dict) -> Q:
    return ~Q(pk__in=feedback_selectors.customers_with_recent_negative_review(days=params.get("days", 30)))
