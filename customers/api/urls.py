from rest_framework.routers import SimpleRouter

from customers.api import views

router = SimpleRouter(trailing_slash="/?")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("products", views.ProductViewSet, basename="product")
router.register("orders", views.OrderViewSet, basename="order")
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = router.urls
