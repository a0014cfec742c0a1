from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from customers.api import imports, views

router = SimpleRouter(trailing_slash="")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("products", views.ProductViewSet, basename="product")
router.register("orders", views.OrderViewSet, basename="order")
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = [
    path("imports", imports.ImportBatchList.as_view(), name="importbatch-list"),
    path("imports/<int:pk>", imports.ImportBatchDetail.as_view(), name="importbatch-detail"),
    re_path(r"^imports/(?P<kind>[a-z_]+)$", imports.ImportCreate.as_view(), name="import-create"),
    *router.urls,
]
