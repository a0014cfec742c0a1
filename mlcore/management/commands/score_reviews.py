"""Score the sentiment and aspects of every review without an up-to-date score."""
from __future__ import annotations

from django.core.management import BaseCommand

from infra import jobs
from mlcore.feedback.tasks import score_reviews


class Command(BaseCommand):
    help = "Score review sentiment/aspects with the active model per language (or the zero-shot fallback) and raise alerts."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Score at most this many reviews.")

    def handle(self, *args, limit: int | None = None, **options):
        planned = score_reviews.apply(kwargs={"limit": limit}).get()
        # apply() runs the task and its chord of shards here, so the job has ended with the summed counts
        summary = jobs.job_result(job_id=planned["job_id"])
        self.stdout.write(f"scored {summary['scored']} reviews, {summary['aspects']} aspect mentions, {summary['alerts']} new alerts")
