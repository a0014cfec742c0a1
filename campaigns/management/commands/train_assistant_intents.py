"""Train and activate the support assistant's intent models (Bitext + JDDC labels; seconds on a CPU)."""
from __future__ import annotations

from django.core.management import BaseCommand

from campaigns.assistant.services.intents import intent_model_train


class Command(BaseCommand):
    help = "Train the support assistant's intent classifiers (English: Bitext; Chinese: JDDC labels) and activate them."

    def handle(self, *args, **options):
        summary = intent_model_train()
        self.stdout.write(f"intents v{summary['version_id']}: Bitext dev accuracy {summary['en_dev_accuracy']:.3f}, macro-F1 {summary['en_dev_macro_f1']:.3f}")
