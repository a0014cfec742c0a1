"""`manage.py import_joined MAPPING --folder DIR`: an export spread over several files (a mapping with `join`)."""
from __future__ import annotations

import json

from django.core.management import BaseCommand, CommandError

from customers.imports.joined import import_joined
from customers.imports.joins import JoinSpecError
from customers.imports.readers import ImportFileError
from customers.models import ImportBatch


class Command(BaseCommand):
    help = "Join the files a mapping's `join` section names (e.g. docs/mappings/olist_orders.yaml) and import the result."

    def add_arguments(self, parser):
        parser.add_argument("mapping", help="The mapping file (YAML/JSON) with kind, join and columns.")
        parser.add_argument("--folder", required=True, help="The folder holding the files the join names.")
        parser.add_argument("--backend", choices=["copy", "batched"], help="Force a load path (default: copy on PostgreSQL).")

    def handle(self, *args, mapping: str, folder: str, backend: str | None = None, **options):
        try:
            batch_id = import_joined(mapping_path=mapping, folder=folder, backend=backend)
        except (ImportFileError, JoinSpecError, ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        batch = ImportBatch.objects.get(pk=batch_id)
        self.stdout.write(self.style.SUCCESS(f"Import batch #{batch.pk}: {batch.message}"))
        if options["verbosity"] > 1:
            self.stdout.write(json.dumps({"rules": batch.rule_counts, "tables": batch.entity_counts}, indent=2))
