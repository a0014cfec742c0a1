from django.urls import path
from rest_framework.routers import SimpleRouter

from mlcore.feedback import api as feedback_views
from mlcore.predictions import api as predictions_views
from mlcore.recommendations import api as recommendations
from mlcore.registry import api as views
from mlcore.segments import api as segments

router = SimpleRouter(trailing_slash="")
router.register("model-versions", views.ModelVersionViewSet, basename="modelversion")
router.register("jobs", views.JobViewSet, basename="job")
router.register("segmentation-runs", segments.SegmentationRunViewSet, basename="segmentationrun")
router.register("segments", segments.SegmentViewSet, basename="segment")

urlpatterns = [
    path("customers/<str:external_id>/segments", segments.CustomerSegmentHistoryView.as_view(), name="customer-segments"),
    path("customers/<str:external_id>/scores", predictions_views.CustomerScoresView.as_view(), name="customer-scores"),
    path("customers/<str:external_id>/recommendations", recommendations.CustomerRecommendationsView.as_view(), name="customer-recommendations"),
    path("products/<str:sku>/similar", recommendations.SimilarProductsView.as_view(), name="product-similar"),
    path("at-risk", predictions_views.AtRiskView.as_view(), name="at-risk"),
    path("sentiment", feedback_views.SentimentView.as_view(), name="sentiment"),
    path("reviews/<int:pk>/sentiment", feedback_views.ReviewSentimentView.as_view(), name="review-sentiment"),
    *router.urls,
]
