"""The shared body of the import_* management commands: options, progress bar, report."""
from __future__ import annotations

import json

from django.core.management import BaseCommand, CommandError
from tqdm import tqdm

from customers.imports.readers import FIELDS, PRESETS, ImportFileError, mapping_load
from customers.imports.services import import_file
from customers.models import ImportBatch


class ImportCommand(BaseCommand):
    kind = ""
    default_preset: str | None = None

    @property
    def help(self) -> str:
        required, optional = FIELDS[self.kind]
        return (f"Import {self.kind} from a CSV/xlsx file (gzip or plain). Fields: {', '.join(required)} (required), "
                f"{', '.join(optional)} (optional); name the file's columns with --mapping or --column.")

    def add_arguments(self, parser):
        presets = sorted(name for name, layout in PRESETS.items() if layout.kind == self.kind)
        parser.add_argument("path", help="The file to import.")
        parser.add_argument("--preset", choices=presets or None, default=None, help=f"A named layout ({', '.join(presets) or 'none'}).")
        parser.add_argument("--mapping", help="A JSON/YAML mapping file: {columns: {field: column}, delimiter, encoding, date_format, ...}.")
        parser.add_argument("--column", action="append", default=[], metavar="FIELD=COLUMN", help="Map one field to a column (repeatable).")
        parser.add_argument("--delimiter", help="CSV delimiter (default ',').")
        parser.add_argument("--encoding", help="Text encoding (default utf-8).")
        parser.add_argument("--date-format", help="strptime format of the dates, or epoch / epoch_ms (default: ISO, then day/month as the file shows).")
        order = parser.add_mutually_exclusive_group()
        order.add_argument("--dayfirst", action="store_const", const=True, dest="dayfirst", help="Dates are day/month (09/12/2011 = 9 December).")
        order.add_argument("--monthfirst", action="store_const", const=False, dest="dayfirst", help="Dates are month/day (09/12/2011 = 12 September).")
        parser.add_argument("--backend", choices=["copy", "batched"], help="Force a load path (default: copy on PostgreSQL).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def mapping_from(self, options) -> dict | None:
        mapping = mapping_load(options["mapping"]) if options.get("mapping") else {}
        if options["column"]:
            columns = mapping.setdefault("columns", {})
            for pair in options["column"]:
                field, sep, column = pair.partition("=")
                if not sep:
                    raise CommandError(f"--column {pair!r}: expected FIELD=COLUMN")
                columns[field.strip()] = column.strip()
        for option, key in (("delimiter", "delimiter"), ("encoding", "encoding"), ("date_format", "date_format"), ("language", "language")):
            if options.get(option):
                mapping[key] = options[option].encode().decode("unicode_escape") if option == "delimiter" else options[option]
        if options.get("dayfirst") is not None:
            mapping["dayfirst"] = options["dayfirst"]
        return mapping or None

    def extra_kwargs(self, options) -> dict:
        return {}

    def handle(self, *args, **options):
        try:
            mapping = self.mapping_from(options)
        except (OSError, ValueError) as exc:
            raise CommandError(f"--mapping: {exc}") from exc
        preset = options["preset"] or (None if mapping and "columns" in mapping else self.default_preset)
        bar = tqdm(total=None, unit="rows", disable=options["no_progress"], file=self.stderr._out, desc=self.kind)
        try:
            batch_id = import_file(path=options["path"], kind=self.kind, preset=preset, mapping=mapping,
                                   progress=bar.update, backend=options["backend"], on_total=lambda n: setattr(bar, "total", n),
                                   **self.extra_kwargs(options))
        except (ImportFileError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        batch = ImportBatch.objects.get(pk=batch_id)
        self.stdout.write(self.style.SUCCESS(f"Import batch #{batch.pk}: {batch.message}"))
        if options["verbosity"] > 1:
            self.stdout.write(json.dumps({"rules": batch.rule_counts, "tables": batch.entity_counts}, indent=2))
