"""The campaigns app: email campaigns, their ledger, tracking and results."""
from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from campaigns import insights  # noqa: F401  (registers the audience criteria backed by mlcore)
        from campaigns.services import privacy

        privacy.register()  # export and erasure of campaign deliveries, opens, clicks, suppressions
