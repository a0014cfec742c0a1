from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from customers.api import imports, privacy, views, webhooks

router = SimpleRouter(trailing_slash="")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("products", views.ProductViewSet, basename="product")
router.register("orders", views.OrderViewSet, basename="order")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("webhooks", webhooks.WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = [
    path("imports", imports.ImportBatchList.as_view(), name="importbatch-list"),
    path("imports/<int:pk>", imports.ImportBatchDetail.as_view(), name="importbatch-detail"),
    re_path(r"^imports/(?P<kind>[a-z_]+)$", imports.ImportCreate.as_view(), name="import-create"),
    re_path(r"^customers/(?P<external_id>[^/]+)/export$", privacy.CustomerExportView.as_view(), name="customer-export"),
    re_path(r"^customers/(?P<external_id>[^/]+)/erase$", privacy.CustomerEraseView.as_view(), name="customer-erase"),
    path("privacy-requests/<int:pk>", privacy.PrivacyRequestDetail.as_view(), name="privacyrequest-detail"),
    path("privacy-requests/<int:pk>/download", privacy.PrivacyRequestDownload.as_view(), name="privacyrequest-download"),
    *router.urls,
]
