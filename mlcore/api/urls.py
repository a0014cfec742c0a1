from django.urls import path
from rest_framework.routers import SimpleRouter

from mlcore.api import predictions_views, views

router = SimpleRouter(trailing_slash="/?")
router.register("model-versions", views.ModelVersionViewSet, basename="modelversion")
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = router.urls + [
    path("customers/<str:external_id>/scores", predictions_views.CustomerScoresView.as_view(), name="customer-scores"),
    path("at-risk", predictions_views.AtRiskView.as_view(), name="at-risk"),
]
