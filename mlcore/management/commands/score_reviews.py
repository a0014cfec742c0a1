"""Score the sentiment and aspects of every review without an up-to-date score."""
from __future__ import annotations

from django.core.management import BaseCommand

from mlcore.feedback.tasks import score_reviews


class Command(BaseCommand):
    help = "Score review sentiment/aspects with the active model per language (or the zero-shot fallback) and raise alerts."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Score at most this many reviews.")

    def handle(self, *args, limit: int | None = None, **options):
        summary = score_reviews.apply(kwargs={"limit": limit}).get()
        self.stdout.write(f"scored {summary['scored']} reviews, {summary['aspects']} aspect mentions, {summary['alerts']} new alerts")
