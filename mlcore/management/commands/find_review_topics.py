"""Print the topics of the shop's reviews (clusters of review embeddings named by distinctive words)."""
from __future__ import annotations

from django.core.management import BaseCommand

from mlcore.feedback.services.topics import review_topics_find


class Command(BaseCommand):
    help = "Cluster the latest reviews of a language and print each topic's size, distinctive words and mean sentiment."

    def add_arguments(self, parser):
        parser.add_argument("--language", choices=["en", "zh"], default="en")
        parser.add_argument("--topics", type=int, default=8)
        parser.add_argument("--limit", type=int, default=5000, help="Latest reviews to cluster.")

    def handle(self, *args, language: str = "en", topics: int = 8, limit: int = 5000, **options):
        table = review_topics_find(language=language, n_topics=topics, limit=limit)
        if table.empty:
            self.stdout.write(f"Too few {language} reviews to find {topics} topics.")
        for row in table.itertuples():
            self.stdout.write(f"{row.share:6.1%}  {', '.join(row.words):60s} sentiment {row.sentiment_mean}")
