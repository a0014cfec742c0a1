"""Train the sentiment model of each language on the shop's rated reviews and register it."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from django.core.management import BaseCommand, CommandError

from mlcore.feedback.tasks import train_sentiment

PROGRESS_LOGGER = "mlcore.feedback.services.training"


class Command(BaseCommand):
    help = "Train sentiment candidates per language, select on a validation fold, refit on all labelled reviews, activate if better."

    def add_arguments(self, parser):
        parser.add_argument("--language", action="append", choices=["en", "zh"], help="Only this language (repeatable).")
        parser.add_argument("--quick", action="store_true", help="Linear models only, selected on a subsample (seconds).")

    @contextmanager
    def _progress_printed(self):
        """The training service's progress lines, printed as they come."""
        handler = logging.StreamHandler(self.stdout)
        handler.setFormatter(logging.Formatter("  %(message)s"))
        logger = logging.getLogger(PROGRESS_LOGGER)
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)

    def handle(self, *args, language: list[str] | None = None, quick: bool = False, **options):
        with self._progress_printed():
            summary = train_sentiment.apply(kwargs={"languages": language, "quick": quick}).get()["languages"]
        for lang, result in summary.items():
            if "skipped" in result:
                self.stdout.write(f"{lang}: skipped, {result['skipped']}")
                continue
            state = "activated" if result["activated"] else "kept the active version (not better)"
            self.stdout.write(
                f"{lang}: v{result['version']} {result['method']} held-out macro-F1 {result['macro_f1']}, negative recall "
                f"{result['negative_recall']} precision {result['negative_precision']}, refitted on all labelled reviews, {state}"
            )
        if not summary:
            raise CommandError("no language trained")
