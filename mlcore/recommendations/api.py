"""Recommendation endpoints: a customer's list (by external id) and a product's similar products (by SKU)."""
from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.scopes import Scope
from mlcore.recommendations.selectors import recommendations_for_external_id, similar_products

MAX_K = 100
K_PARAM = OpenApiParameter("k", int, description=f"How many products (1-{MAX_K}, default 10).")


class RecommendedProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    title = serializers.CharField()
    price = serializers.FloatField(allow_null=True)
    image_url = serializers.CharField()
    url = serializers.CharField()
    score = serializers.FloatField()
    reason = serializers.CharField()


class CustomerRecommendationsSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    known_customer = serializers.BooleanField()
    fallback = serializers.BooleanField(help_text="True when the list is the popularity fallback.")
    model_version = serializers.CharField(allow_null=True, help_text='kind:version of the model that made the list, e.g. "recommender:4".')
    items = RecommendedProductSerializer(many=True)


class SimilarProductsSerializer(serializers.Serializer):
    sku = serializers.CharField()
    items = RecommendedProductSerializer(many=True)


def parse_k(request) -> int:
    raw = request.query_params.get("k", "10")
    try:
        k = int(raw)
    except ValueError:
        raise ValidationError({"k": f"must be an integer between 1 and {MAX_K}, got {raw!r}"}) from None
    if not 1 <= k <= MAX_K:
        raise ValidationError({"k": f"must be between 1 and {MAX_K}, got {k}"})
    return k


class CustomerRecommendationsView(APIView):
    required_scopes = Scope.READ_RECOMMENDATIONS

    @extend_schema(parameters=[K_PARAM], responses=CustomerRecommendationsSerializer)
    def get(self, request, external_id: str):
        found = recommendations_for_external_id(external_id=external_id, k=parse_k(request))
        return Response(CustomerRecommendationsSerializer(asdict(found)).data)


class SimilarProductsView(APIView):
    required_scopes = Scope.READ_RECOMMENDATIONS

    @extend_schema(parameters=[K_PARAM], responses=SimilarProductsSerializer)
    def get(self, request, sku: str):
        items = similar_products(sku=sku, k=parse_k(request))
        if items is None:
            raise NotFound(f"no product with SKU {sku!r}")
        return Response(SimilarProductsSerializer({"sku": sku, "items": [asdict(i) for i in items]}).data)
