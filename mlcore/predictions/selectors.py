"""Reads of stored predictions: scores of the active churn version, at-risk lists, drift.

Other areas call `customer_ids_by_scores` (campaign audiences) and `customer_scores` (a
customer's latest figures); both read the scores of the active churn version only.
"""
from __future__ import annotations

from django.conf import settings
from django.db.models import Count, FloatField, QuerySet, Sum, Value
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
    """The at-risk churn probability: AT_RISK_PROBABILITY, else the active churn version's horizon, else 0.5."""
    if settings.AT_RISK_PROBABILITY is not None:
        return float(settings.AT_RISK_PROBABILITY)
    params = ModelVersion.objects.filter(kind=CHURN, is_active=True).values_list("params", flat=True).first() or {}
    return float((params.get("horizons") or {}).get("at_risk_probability", 0.5))


def at_risk_customers(*, churn_min: float | None = None, min_value: float | None = None, customer_ids=None) -> QuerySet[CustomerScore]:
    """Active-model scores at or above churn_min (None: the shop's at-risk threshold), most valuable first."""
    churn_min = at_risk_threshold() if churn_min is None else churn_min
    qs = active_churn_scores().filter(churn_probability__gte=churn_min).select_related("customer")
    if min_value is not None:
        qs = qs.filter(expected_value_12m__gte=min_value)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    # value_rank: the value with unknown ones last, a plain column an id-free cursor can follow
    qs = qs.annotate(value_rank=Coalesce("expected_value_12m", Value(-1.0), output_field=FloatField()))
    return qs.order_by("-value_rank", "-churn_probability", "id")


def latest_drift_report(*, version_id: int) -> DriftReport | None:
    return DriftReport.objects.filter(model_version_id=version_id).first()


def churn_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(kind=CHURN)


def at_risk_summary(*, churn_min: float = 0.5, top: int = 5) -> dict:
    """Customers at or above churn_min on the active churn model, the 12-month value they hold
    (the value at stake), all scored customers, and the most valuable few of them."""
    scored = active_churn_scores()
    risky = scored.filter(churn_probability__gte=churn_min)
    totals = risky.aggregate(customers=Count("id"), value=Sum("expected_value_12m"))
    leaders = [
        {"customer_id": s.customer_id, "name": s.customer.name or s.customer.external_id, "churn_probability": s.churn_probability, "expected_value_12m": s.expected_value_12m}
        for s in at_risk_customers(churn_min=churn_min)[:top]
    ]
    return {
        "churn_min": churn_min, "customers": totals["customers"], "value_at_stake": totals["value"] or 0.0,
        "scored": scored.count(), "top": leaders,
    }


def active_uplift_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=UPLIFT, is_active=True).first()


def customer_ids_by_uplift(*, uplift_min: float | None = None, uplift_max: float | None = None) -> QuerySet:
    """Ids of customers whose expected uplift (active uplift version) lies in the closed range."""
    qs = CustomerUplift.objects.filter(model_version__kind=UPLIFT, model_version__is_active=True)
    bounds = {"uplift__gte": uplift_min, "uplift__lte": uplift_max}
    return qs.filter(**{k: v for k, v in bounds.items() if v is not None}).values_list("customer_id", flat=True)
