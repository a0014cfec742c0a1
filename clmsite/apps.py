from django.apps import AppConfig


class ClmsiteConfig(AppConfig):
    name = "clmsite"
    verbose_name = "Platform"

    def ready(self) -> None:
        from clmsite import checks  # noqa: F401  (registers the system checks)
