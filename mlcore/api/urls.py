from django.urls import path
from rest_framework.routers import SimpleRouter

from mlcore.api import segments, views

router = SimpleRouter(trailing_slash="/?")
router.register("model-versions", views.ModelVersionViewSet, basename="modelversion")
router.register("jobs", views.JobViewSet, basename="job")
router.register("segmentation-runs", segments.SegmentationRunViewSet, basename="segmentationrun")
router.register("segments", segments.SegmentViewSet, basename="segment")

urlpatterns = [
    path("customers/<str:external_id>/segments", segments.CustomerSegmentHistoryView.as_view(), name="customer-segments"),
    *router.urls,
]
