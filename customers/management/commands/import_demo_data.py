"""`manage.py import_demo_data`: import the bundled real files under data/ (make demo's first step).

Order lines get synthetic demo email addresses (customer-<id>@example.com, consent source
'import'): the real file has none, and the campaign demo needs someone to write to. A file
already imported with the same sha256 is skipped unless --force.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, call_command

from customers.imports.readers import file_sha256
from customers.models import ImportBatch

DEMO_FILES = [
    ("import_orders", "online_retail.csv.gz", ["--preset", "online_retail", "--synthetic-emails"]),
    ("import_reviews", "womens_clothing_reviews.csv.gz", ["--preset", "reviews_en"]),
]


class Command(BaseCommand):
    help = "Import the bundled Online Retail order lines and English clothing reviews from data/."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", default=str(Path(settings.BASE_DIR) / "data"))
        parser.add_argument("--force", action="store_true", help="Import again even if the same file was imported.")

    def handle(self, *args, data_dir: str, force: bool, **options):
        for command, name, arguments in DEMO_FILES:
            path = Path(data_dir) / name
            if not path.exists():
                self.stderr.write(f"{path} is missing; skipping {command}.")
                continue
            done = ImportBatch.objects.filter(sha256=file_sha256(path.read_bytes()), status=ImportBatch.Status.SUCCEEDED).first()
            if done and not force:
                self.stdout.write(f"{name}: already imported (batch #{done.pk}); --force to import again.")
                continue
            call_command(command, str(path), *arguments, "--no-progress", stdout=self.stdout, stderr=self.stderr)
