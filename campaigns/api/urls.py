from django.urls import path
from rest_framework.routers import SimpleRouter

from campaigns.api import views
from campaigns.assistant import api as assistant_api

router = SimpleRouter(trailing_slash="")
router.register("campaigns", views.CampaignViewSet, basename="campaign")

urlpatterns = [
    path("campaign-criteria", views.AudienceCriteriaView.as_view(), name="campaign-criteria"),
    path("campaign-bounces", views.BounceView.as_view(), name="campaign-bounces"),
    path("assistant/conversations", assistant_api.ConversationsView.as_view(), name="assistant-conversations"),
    path("assistant/conversations/<uuid:public_id>/messages", assistant_api.ConversationMessagesView.as_view(), name="assistant-messages"),
    *router.urls,
]
