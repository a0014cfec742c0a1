"""Score every customer with the active churn, BG/NBD and Gamma-Gamma versions."""
from __future__ import annotations

from django.core.management import BaseCommand

from infra.jobs import job_result
from mlcore.predictions.tasks import score_customers


class Command(BaseCommand):
    help = "Write churn risk, reasons, purchase probability and 12-month value for every customer."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="Snapshot date (ISO); default: now.")

    def handle(self, *args, as_of: str | None = None, **options):
        started = score_customers(as_of=as_of)  # in this process: the shards' chord has run when it returns
        result = {**started, **job_result(job_id=started["job_id"])}
        self.stdout.write(f"{result.get('scored', 0)} customers scored; max PSI {result.get('max_psi')}")
