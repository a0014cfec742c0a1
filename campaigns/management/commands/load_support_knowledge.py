"""Load the support assistant's knowledge base (default: the demo shop's articles, English and
Chinese) through the versioning service; each new or changed article is re-indexed on commit,
and the product catalogue's passages are queued for re-indexing."""
from __future__ import annotations

from django.core.management import BaseCommand

from campaigns.assistant.services.knowledge import DEMO_KB, knowledge_load_file
from campaigns.tasks import assistant_reindex_products


class Command(BaseCommand):
    help = "Load knowledge articles from a YAML file (default: the demo shop's knowledge base). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEMO_KB))

    def handle(self, *args, file: str, **options):
        summary = knowledge_load_file(path=file)
        self.stdout.write(f"knowledge: {summary['articles']} articles ({summary['created']} new, {summary['changed']} changed)")
        # the catalogue's passages: queued (the ml worker, or in-process without a broker); beat repeats it for later changes
        assistant_reindex_products.delay()
        self.stdout.write("knowledge: catalogue re-index of changed products queued (campaigns.assistant_reindex_products)")
