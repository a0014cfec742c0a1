"""`manage.py summarize_reviews [--min-reviews N]`: what customers say about each product."""
from django.core.management import BaseCommand

from mlcore.feedback.services.summaries import review_summaries_refresh


class Command(BaseCommand):
    help = "Compute the checked review summary of every product with enough reviews (run after score_reviews)."

    def add_arguments(self, parser):
        parser.add_argument("--min-reviews", type=int, default=10)

    def handle(self, *args, min_reviews: int, **options):
        self.stdout.write(review_summaries_refresh(min_reviews=min_reviews)["message"])
