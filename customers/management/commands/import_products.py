"""`manage.py import_products PATH [--preset ... | --mapping FILE | --column FIELD=COLUMN ...]`."""
from customers.management.import_command import ImportCommand


class Command(ImportCommand):
    kind = "products"
    default_preset = None
