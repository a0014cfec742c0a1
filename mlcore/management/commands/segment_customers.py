"""`manage.py segment_customers [--snapshot-at ISO] [--k N]`: run the segmentation now."""
from __future__ import annotations

from dataclasses import replace

from django.core.management import BaseCommand, CommandError

from customers.clock import shop_moment
from mlcore.segments.selectors import segment_list
from mlcore.segments.services import NothingToSegment, segmentation_config, segmentation_run_build


class Command(BaseCommand):
    help = "Compute customer features and K-means segments (idempotent per snapshot date) and print the segments."

    def add_arguments(self, parser):
        parser.add_argument("--snapshot-at", help="ISO date-time of the snapshot (default: today's midnight, shop time).")
        parser.add_argument("--k", type=int, help="Fixed number of segments (default: chosen by silhouette).")

    def handle(self, *args, snapshot_at: str | None = None, k: int | None = None, **options):
        when = None
        if snapshot_at:
            when = shop_moment(snapshot_at)
            if when is None:
                raise CommandError(f"--snapshot-at {snapshot_at!r} is not an ISO date or date-time")
        config = segmentation_config()
        if k:
            config = replace(config, k=k)
        try:
            run_id = segmentation_run_build(snapshot_at=when, config=config)
        except NothingToSegment as exc:
            self.stdout.write(self.style.WARNING(str(exc)))
            return
        self.stdout.write(self.style.SUCCESS(f"Segmentation run {run_id}:"))
        for segment in segment_list(run_id=run_id):
            self.stdout.write(f"  {segment.name:<22} {segment.size:>8,}  revenue {segment.revenue_share:6.1%}  [{segment.key}]")
