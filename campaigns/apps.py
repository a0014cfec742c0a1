"""The campaigns app: email campaigns, their ledger, tracking and results."""
from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"
