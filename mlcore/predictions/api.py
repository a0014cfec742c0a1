"""API of predictions: a customer's latest scores, and at-risk customers by value."""
from __future__ import annotations

import importlib

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError

from clmsite.pagination import cursor_pagination
from customers import selectors as shop
from customers.api.conventions import KnownQueryParamsFilter
from customers.api.scopes import Scope
from mlcore.predictions import selectors
from mlcore.predictions.serializers import AtRiskQuerySerializer, CustomerScoreSerializer


def segment_selector():
    """The segments area's `customer_ids_in_segments`, when that module is installed."""
    try:
        module = importlib.import_module("mlcore.segments.selectors")
    except ImportError:
        return None
    return getattr(module, "customer_ids_in_segments", None)


class CustomerScoresView(generics.RetrieveAPIView):
    """The customer's latest scores from the active churn model (404 when none)."""

    required_scopes = Scope.READ_SCORES
    serializer_class = CustomerScoreSerializer

    def get_object(self):
        ids = shop.customer_id_map(external_ids=[self.kwargs["external_id"]])
        score = selectors.customer_scores(customer_id=ids[self.kwargs["external_id"]]) if ids else None
        if score is None:
            raise Http404("no scores for this customer")
        return score


class AtRiskView(generics.ListAPIView):
    """Customers at risk (the shop's rule: churn >= churn_min and value >= min_value), largest value at stake (risk x value) first."""

    required_scopes = Scope.READ_SCORES
    serializer_class = CustomerScoreSerializer
    filter_backends = [KnownQueryParamsFilter]
    extra_query_params = ("churn_min", "min_value", "segment")
    # most valuable first, as the selector orders; the cursor follows the value
    pagination_class = cursor_pagination("-value_rank", "-churn_probability", "id")

    @extend_schema(parameters=[
        OpenApiParameter("churn_min", float, description="lowest churn probability (default: the shop's rule, AT_RISK_MIN_PROBABILITY, 0.7 unless set)"),
        OpenApiParameter("min_value", float, description="lowest expected 12-month value (default: AT_RISK_MIN_VALUE)"),
        OpenApiParameter("segment", str, many=True, description="segment key(s), when segments are installed"),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = AtRiskQuerySerializer(data={**self.request.query_params.dict(), "segment": self.request.query_params.getlist("segment")})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        customer_ids = None
        if params["segment"]:
            in_segments = segment_selector()
            if in_segments is None:
                raise ValidationError({"segment": "segments are not installed on this platform"})
            customer_ids = in_segments(segment_keys=params["segment"])
        qs = selectors.at_risk_customers(churn_min=params["churn_min"], min_value=params["min_value"], customer_ids=customer_ids)
        return qs.select_related("customer", "model_version")
