"""Train the sentiment model of each language on the shop's rated reviews and register it."""
from __future__ import annotations

from django.core.management import BaseCommand, CommandError

from mlcore.feedback.tasks import train_sentiment


class Command(BaseCommand):
    help = "Train sentiment candidates per language, register the best as sentiment_<lang>, activate it if better."

    def add_arguments(self, parser):
        parser.add_argument("--language", action="append", choices=["en", "zh"], help="Only this language (repeatable).")
        parser.add_argument("--quick", action="store_true", help="Linear models only (seconds); no transformer fine-tuning.")

    def handle(self, *args, language: list[str] | None = None, quick: bool = False, **options):
        summary = train_sentiment.apply(kwargs={"languages": language, "quick": quick}).get()["languages"]
        for lang, result in summary.items():
            if "skipped" in result:
                self.stdout.write(f"{lang}: skipped, {result['skipped']}")
                continue
            state = "activated" if result["activated"] else "kept the active version (not better)"
            self.stdout.write(f"{lang}: v{result['version']} {result['method']} macro-F1 {result['macro_f1']}, {state}")
        if not summary:
            raise CommandError("no language trained")
