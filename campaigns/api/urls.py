from django.urls import path
from rest_framework.routers import SimpleRouter

from campaigns.api import views

router = SimpleRouter(trailing_slash="")
router.register("campaigns", views.CampaignViewSet, basename="campaign")

urlpatterns = [
    path("campaign-criteria", views.AudienceCriteriaView.as_view(), name="campaign-criteria"),
    path("campaign-bounces", views.BounceView.as_view(), name="campaign-bounces"),
    *router.urls,
]
