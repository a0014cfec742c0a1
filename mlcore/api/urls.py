from django.urls import path
from rest_framework.routers import SimpleRouter

from mlcore.api import feedback_views, views

router = SimpleRouter(trailing_slash="/?")
router.register("model-versions", views.ModelVersionViewSet, basename="modelversion")
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = router.urls + [
    path("sentiment", feedback_views.SentimentView.as_view(), name="sentiment"),
    path("reviews/<int:pk>/sentiment", feedback_views.ReviewSentimentView.as_view(), name="review-sentiment"),
]
