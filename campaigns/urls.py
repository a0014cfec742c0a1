"""Public pages of campaigns (landing pages, tracking, unsubscribe, product pages); no login."""
from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("c/<slug:slug>/", views.landing, name="landing"),
    path("t/o/<str:token>.gif", views.open_pixel, name="open"),
    path("t/c/<str:token>/", views.click, name="click"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("products/<str:sku>/", views.product_page, name="product"),
]
