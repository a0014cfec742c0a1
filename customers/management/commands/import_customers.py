"""`manage.py import_customers PATH [--preset ... | --mapping FILE | --column FIELD=COLUMN ...]`."""
from customers.management.import_command import ImportCommand


class Command(ImportCommand):
    kind = "customers"
    default_preset = None
