"""`make demo`'s set-up: an admin user (password printed once), the bundled data, the pipelines.

Each later step is another app's management command, called by name so clmsite imports no app.
Safe to run again: every step is idempotent, and the admin password is only made the first time.
"""
from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command

# (command name, arguments) run in order after the admin user exists.
DEMO_STEPS: list[tuple[str, list[str]]] = [
    ("import_demo_data", []),  # bundled Online Retail invoices and English reviews
    ("train_sentiment", ["--quick"]),  # review intelligence: linear sentiment models in seconds
    ("score_reviews", []),  # sentiment, aspects and alerts of every review
    ("summarize_reviews", []),  # what customers say about each product with 10+ reviews (product page, templates)
    ("segment_customers", ["--snapshot-at", "2011-09-01"]),  # an earlier run, so transitions show
    ("segment_customers", ["--snapshot-at", "2011-12-10"]),
    ("train_models", []),  # churn, BG/NBD, Gamma-Gamma
    ("score_customers", []),
    ("train_recommender", ["--fast"]),
    ("create_demo_campaign", []),
    ("load_support_knowledge", []),  # the support assistant's articles (English and Chinese), indexed on commit
]


class Command(BaseCommand):
    help = "Create the demo admin user, import the bundled real shop data and run the pipelines."

    def add_arguments(self, parser):
        parser.add_argument("--skip-pipelines", action="store_true", help="Only create the admin user.")

    def handle(self, *args, skip_pipelines: bool = False, **options):
        self.ensure_admin()
        if skip_pipelines:
            return
        for name, arguments in DEMO_STEPS:
            started = time.monotonic()
            self.stdout.write(self.style.MIGRATE_HEADING(f"== {name} {' '.join(arguments)}"))
            call_command(name, *arguments, stdout=self.stdout, stderr=self.stderr)
            self.stdout.write(f"   {name} took {time.monotonic() - started:.1f} s")
        self.stdout.write(self.style.SUCCESS(f"Demo ready: {settings.SITE_URL}/admin/  API docs: {settings.SITE_URL}/api/docs/"))

    def ensure_admin(self) -> None:
        User = get_user_model()
        if User.objects.filter(username="admin").exists():
            self.stdout.write("Admin user 'admin' exists already (its password was printed when it was made).")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="admin", email="admin@example.com", password=password)
        self.stdout.write(self.style.SUCCESS(f"Admin user: admin   password: {password}   (shown once; keep it)"))
