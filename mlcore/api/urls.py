from rest_framework.routers import SimpleRouter

from mlcore.api import views

router = SimpleRouter(trailing_slash="/?")
router.register("model-versions", views.ModelVersionViewSet, basename="modelversion")
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = router.urls
