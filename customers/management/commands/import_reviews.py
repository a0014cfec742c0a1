"""`manage.py import_reviews PATH [--preset ... | --mapping FILE | --column FIELD=COLUMN ...]`."""
from customers.management.import_command import ImportCommand


class Command(ImportCommand):
    kind = "reviews"
    default_preset = "reviews_en"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--language", help="Language code of reviews without a language column (en, zh, pt, ...; default: the preset's).")
