"""`manage.py import_orders PATH [--preset ... | --mapping FILE | --column FIELD=COLUMN ...]`."""
from customers.management.import_command import ImportCommand


class Command(ImportCommand):
    kind = "orders"
    default_preset = "online_retail"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--synthetic-emails", action="store_true",
                            help="Demo only: give customers without email a fake customer-<id>@example.com with consent (source import).")

    def extra_kwargs(self, options) -> dict:
        return {"synthetic_emails": options["synthetic_emails"]}
