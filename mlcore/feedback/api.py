"""Review sentiment API: the sentiment of a stored review, and scoring of partner texts."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.scopes import Scope
from mlcore.feedback.serializers import (
    ReviewSentimentSerializer,
    SentimentRequestSerializer,
    SentimentResponseSerializer,
)
from mlcore.feedback.services import review_sentiment_detail, sentiment_score_texts


class SentimentView(APIView):
    """POST up to 100 texts; each gets a score, label, language and the model (or fallback) used."""

    required_scopes = {"POST": Scope.READ_REVIEWS}

    @extend_schema(request=SentimentRequestSerializer, responses=SentimentResponseSerializer)
    def post(self, request):
        data = SentimentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        texts = data.validated_data["texts"]
        language = data.validated_data.get("language")
        results = sentiment_score_texts(texts=texts, languages=[language] * len(texts) if language else None)
        return Response(SentimentResponseSerializer({"results": [vars(r) for r in results]}).data)


class ReviewSentimentView(APIView):
    """The stored sentiment and aspects of a review (scored on the fly, unstored, if not yet scored)."""

    required_scopes = Scope.READ_REVIEWS

    @extend_schema(responses=ReviewSentimentSerializer)
    def get(self, request, pk: int):
        detail = review_sentiment_detail(review_id=pk)
        if detail is None:
            raise NotFound(f"No review with id {pk}.")
        return Response(ReviewSentimentSerializer(detail).data)
