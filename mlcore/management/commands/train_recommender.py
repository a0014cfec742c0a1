"""manage.py train_recommender: train the hybrid recommender and write every stored list now."""
from __future__ import annotations

from django.core.management import BaseCommand

from mlcore.recommendations.tasks import train_ranker, train_recommender


class Command(BaseCommand):
    help = "Train the hybrid recommender (ALS + content + buy-again + popularity) and store each customer's top-N."

    def add_arguments(self, parser):
        parser.add_argument("--fast", action="store_true", help="Small ALS and a small weight grid (the demo's setting).")
        parser.add_argument("--ranker-steps", type=int, default=0, help="Then fine-tune the cross-encoder ranker for this many steps (0: skip).")

    def handle(self, *args, fast: bool = False, ranker_steps: int = 0, **options):
        result = train_recommender.apply(kwargs={"fast": fast}).get()
        self.stdout.write(f"recommender: {result}")
        if ranker_steps:
            self.stdout.write(f"ranker: {train_ranker.apply(kwargs={'steps': ranker_steps}).get()}")
