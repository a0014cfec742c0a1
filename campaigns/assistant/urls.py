"""The support chat pages (public; the signed link or the conversation's random id is the key)."""
from django.urls import path

from campaigns.assistant import views

app_name = "support"
urlpatterns = [
    path("support/", views.chat, name="chat"),
    path("support/c/<uuid:public_id>/", views.conversation, name="conversation"),
    path("support/c/<uuid:public_id>/rate/<int:message_id>/", views.rate, name="rate"),
]
