"""Train the prediction models: BG/NBD, Gamma-Gamma and a churn version (gated against the active one)."""
from __future__ import annotations

from django.core.management import BaseCommand, CommandError

from mlcore.predictions.tasks import train_churn


class Command(BaseCommand):
    help = "Fit BG/NBD + Gamma-Gamma and train a churn model; the churn model becomes active only if at least as good."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="End of the data window (ISO date); default: the day after the last order.")

    def handle(self, *args, as_of: str | None = None, **options):
        try:
            result = train_churn(as_of=as_of)
        except ValueError as exc:
            raise CommandError(f"train_models: {exc}") from exc
        state = "active" if result["active"] else "challenger (worse than the active version)"
        self.stdout.write(f"churn version {result['churn_version_id']}: ROC AUC {result['roc_auc']}, {state}")
