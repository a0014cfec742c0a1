"""Reads of stored predictions: scores of the active churn version, at-risk lists, drift.

Other areas call `customer_ids_by_scores` (campaign audiences) and `customer_scores` (a
customer's latest figures); both read the scores of the active churn version only.
"""
from __future__ import annotations

from django.conf import settings
from django.db.models import Count, ExpressionWrapper, F, FloatField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from mlcore.models import CustomerScore, CustomerUplift, DriftReport, ModelVersion

CHURN = "churn"
UPLIFT = "uplift"


def active_churn_scores() -> QuerySet[CustomerScore]:
    return CustomerScore.objects.filter(model_version__kind=CHURN, model_version__is_active=True)


def customer_ids_by_scores(
    *, churn_min: float | None = None, churn_max: float | None = None, clv_min: float | None = None, clv_max: float | None = None
) -> QuerySet:
    """Ids of customers whose active-model scores fall in the given closed ranges (flat values QuerySet)."""
    qs = active_churn_scores()
    bounds = {
        "churn_probability__gte": churn_min, "churn_probability__lte": churn_max,
        "expected_value_12m__gte": clv_min, "expected_value_12m__lte": clv_max,
    }
    qs = qs.filter(**{key: value for key, value in bounds.items() if value is not None})
    return qs.values_list("customer_id", flat=True)


def customer_scores(*, customer_id: int) -> CustomerScore | None:
    """The customer's latest score row of the active churn version, or None."""
    return active_churn_scores().filter(customer_id=customer_id).select_related("model_version").order_by("-scored_at", "-id").first()


def at_risk_threshold() -> float:
    """The shop's at-risk churn probability: AT_RISK_MIN_PROBABILITY (0.7 unless set; the legacy
    AT_RISK_PROBABILITY is read when the new name is unset). The score is a calibrated probability."""
    return float(settings.AT_RISK_MIN_PROBABILITY)


def at_risk_min_value() -> float:
    """The 12-month value an at-risk customer must reach (AT_RISK_MIN_VALUE, 0 unless set)."""
    return float(settings.AT_RISK_MIN_VALUE)


def at_risk_customers(*, churn_min: float | None = None, min_value: float | None = None, customer_ids=None) -> QuerySet[CustomerScore]:
    """The shop's at-risk list: active-model scores with churn risk >= churn_min and 12-month value >=
    min_value (None: the shop's settings), ordered by value at stake (risk x value), largest first."""
    churn_min = at_risk_threshold() if churn_min is None else churn_min
    min_value = at_risk_min_value() if min_value is None else min_value
    qs = active_churn_scores().filter(churn_probability__gte=churn_min).select_related("customer")
    if min_value > 0:
        qs = qs.filter(expected_value_12m__gte=min_value)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    # value_rank: the value at stake (risk x 12-month value), unknown values last; a plain column an id-free cursor can follow
    at_stake = ExpressionWrapper(F("churn_probability") * F("expected_value_12m"), output_field=FloatField())
    qs = qs.annotate(value_rank=Coalesce(at_stake, Value(-1.0), output_field=FloatField()))
    return qs.order_by("-value_rank", "-churn_probability", "id")


def latest_drift_report(*, version_id: int) -> DriftReport | None:
    return DriftReport.objects.filter(model_version_id=version_id).first()


def churn_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(kind=CHURN)


def at_risk_summary(*, churn_min: float | None = None, top: int = 5) -> dict:
    """The shop's at-risk customers (its rule: risk and value floor), the 12-month value they hold
    (the value at stake: risk x value, summed), all scored customers, and the largest stakes."""
    scored = active_churn_scores()
    risky = at_risk_customers(churn_min=churn_min)
    totals = risky.aggregate(customers=Count("id"), value=Sum(F("churn_probability") * F("expected_value_12m"), output_field=FloatField()))
    leaders = [
        {"customer_id": s.customer_id, "name": s.customer.name or s.customer.external_id, "churn_probability": s.churn_probability,
         "expected_value_12m": s.expected_value_12m, "value_at_stake": s.value_rank}
        for s in risky[:top]
    ]
    return {
        "churn_min": at_risk_threshold() if churn_min is None else churn_min, "min_value": at_risk_min_value(),
        "customers": totals["customers"], "value_at_stake": totals["value"] or 0.0, "scored": scored.count(), "top": leaders,
    }


def active_uplift_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=UPLIFT, is_active=True).first()


def customer_ids_by_uplift(*, uplift_min: float | None = None, uplift_max: float | None = None) -> QuerySet:
    """Ids of customers whose expected uplift (active uplift version) lies in the closed range."""
    qs = CustomerUplift.objects.filter(model_version__kind=UPLIFT, model_version__is_active=True)
    bounds = {"uplift__gte": uplift_min, "uplift__lte": uplift_max}
    return qs.filter(**{k: v for k, v in bounds.items() if v is not None}).values_list("customer_id", flat=True)
