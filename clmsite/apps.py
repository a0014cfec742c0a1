from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ClmsiteConfig(AppConfig):
    name = "clmsite"
    verbose_name = "Platform"

    def ready(self) -> None:
        from clmsite import checks  # noqa: F401  (registers the system checks)


class ClmAdminConfig(AdminConfig):
    """Django's admin with the platform's site (its dashboard index); named by dotted path so
    clmsite imports no app."""

    default_site = "campaigns.dashboard.DashboardAdminSite"
