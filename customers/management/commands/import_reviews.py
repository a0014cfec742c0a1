"""`manage.py import_reviews PATH [--preset ... | --mapping FILE | --column FIELD=COLUMN ...]`."""
from customers.management.import_command import ImportCommand


class Command(ImportCommand):
    kind = "reviews"
    default_preset = "reviews_en"
