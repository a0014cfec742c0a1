"""`manage.py import_events PATH [--preset ... | --mapping FILE | --column FIELD=COLUMN ...]`."""
from customers.management.import_command import ImportCommand


class Command(ImportCommand):
    kind = "events"
    default_preset = None
