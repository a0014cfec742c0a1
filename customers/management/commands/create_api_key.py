"""Create a scoped API key and print it once: `manage.py create_api_key NAME --scope read:customers ...`."""
from __future__ import annotations

from datetime import timedelta

from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from customers.api.keys import api_key_create
from customers.api.scopes import Scope


class Command(BaseCommand):
    help = "Create a scoped API key; the full key is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scope", action="append", default=[], help=f"Repeatable; one of {', '.join(Scope.values)}.")
        parser.add_argument("--all-scopes", action="store_true")
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument("--quiet", action="store_true", help="Print only the key (for scripts).")

    def handle(self, *args, name: str, scope: list[str], all_scopes: bool, expires_days: int | None, quiet: bool, **options):
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            key, full = api_key_create(name=name, scopes=list(Scope.values) if all_scopes else scope, expires_at=expires_at)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if quiet:
            self.stdout.write(full)
            return
        self.stdout.write(f"API key {key.name!r} ({', '.join(key.scopes) or 'no scopes'}): {full}")
        self.stdout.write("Shown once: it is not stored. Send it as 'Authorization: Bearer <key>'.")
