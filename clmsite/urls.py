"""URL wiring: admin, API v1 (one include per app), schema and docs, health, campaign pages."""
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clmsite.health import healthz
from customers.api.conventions import api_not_found

admin.site.site_header = "Customer Lifecycle Platform"
admin.site.site_title = "CLM admin"
admin.site.index_title = "Shop lifecycle"

api_v1 = [
    path("", include("customers.api.urls")),
    path("", include("mlcore.urls")),
    path("", include("campaigns.api.urls")),
    re_path(r"^(?P<unmatched>.*)$", api_not_found),  # last: an unknown API route answers JSON, not a debug page
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("", include("campaigns.urls")),
    path("", include("campaigns.assistant.urls")),
]
