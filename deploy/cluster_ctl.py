"""What deploy/netns-cluster.sh asks of the platform, run as an operator would from any host.

Each subcommand is one short step against the database named by DATABASE_URL and the broker
named by REDIS_URL; none runs a task in-process (the workers in their namespaces do the work):

  job ENTRY KIND              send beat's entry ENTRY (its task and arguments, as beat does) and wait
                              for a succeeded Job of KIND; with --kill-after S --pids P.. SIGKILL P..
                              once that job has run S seconds, and stop there (--after-file: the
                              last Job id before, for wait-job)
  wait-job KIND --after ID    wait for a succeeded Job of KIND newer than ID (fails on timeout)
  import-queued FILE          queue an order import as the admin's upload does; wait for its batch
  campaign --throttle N       create the demo campaign (seed 17) and schedule it now (beat's dispatch_due
                              starts it); wait until sent, or with --kill-share F --pids P.. SIGKILL
                              P.. between two messages (none in SMTP hand-over) once F of them went
  wait-campaign               wait until the campaign is sent
  dump OUT                    active churn/value scores, recommendations, segments and the ledger as JSON
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clmsite.settings")
CAMPAIGN_SLUG = "demo-picked-for-you"


def say(text: str) -> None:
    print(text, flush=True)


def _last_job_id() -> int:
    from infra.models import Job

    return Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def cmd_job(args) -> None:
    """Beat's own row, its task sent by name (routing as beat's is); then wait, or kill mid-job."""
    from django_celery_beat.models import PeriodicTask

    from clmsite.celery import app

    deadline = time.monotonic() + 60
    while not (entry := PeriodicTask.objects.filter(name=args.entry).first()):
        if time.monotonic() > deadline:
            raise SystemExit(f"beat has not stored the entry {args.entry!r}: is beat running?")
        time.sleep(1)
    before = _last_job_id()
    result = app.send_task(entry.task, args=json.loads(entry.args or "[]"), kwargs=json.loads(entry.kwargs or "{}"))
    say(f"sent {entry.task} (beat entry {args.entry}) as task {result.id}")
    if args.after_file:
        Path(args.after_file).write_text(str(before))
    if args.kill_after is None:
        _job_report(_job_wait(args.kind, before, args.timeout), args.kind)
        return
    from django.utils import timezone

    job = _job_wait(args.kind, before, args.timeout, want_running_s=args.kill_after)
    _kill(args.pids)
    ran = (timezone.now() - job.started_at).total_seconds()
    job.refresh_from_db()
    say(f"KILL POINT: SIGKILL {args.pids} (the ml worker) while job #{job.pk} {args.kind} was running, {ran:.1f} s in: {job.message!r}")


def _job_wait(kind: str, after: int, timeout: float, want_running_s: float | None = None):
    from infra.models import Job

    deadline, seen_failed = time.monotonic() + timeout, set()
    while time.monotonic() < deadline:
        jobs = list(Job.objects.filter(kind=kind, pk__gt=after).order_by("pk"))
        for job in jobs:
            if job.status == Job.Status.FAILED and job.pk not in seen_failed:
                seen_failed.add(job.pk)
                say(f"job #{job.pk} {kind} failed: {job.error[:200]}")
            if want_running_s is None and job.status == Job.Status.SUCCEEDED:
                return job
            if want_running_s is not None and job.status == Job.Status.RUNNING and job.started_at:
                from django.utils import timezone

                if (timezone.now() - job.started_at).total_seconds() >= want_running_s:
                    return job
        time.sleep(0.2 if want_running_s is not None else 1.0)
    raise SystemExit(f"timeout: no {'running' if want_running_s is not None else 'succeeded'} {kind} job after #{after} within {timeout:.0f} s")


def _job_report(job, kind: str) -> None:
    took = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else float("nan")
    say(f"job #{job.pk} {kind} succeeded in {took:.1f} s: {job.message}; {json.dumps(job.result, default=str)[:240]}")


def cmd_wait_job(args) -> None:
    _job_report(_job_wait(args.kind, args.after, args.timeout), args.kind)


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def cmd_import_queued(args) -> None:
    from customers.imports.services import import_upload_queue
    from customers.models import ImportBatch

    path = Path(args.file)
    batch_id = import_upload_queue(data=path.read_bytes(), source_name=path.name, kind="orders", preset="online_retail", synthetic_emails=True)
    say(f"import batch #{batch_id} queued for the default worker ({path.stat().st_size:,} bytes)")
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status == ImportBatch.Status.SUCCEEDED:
            took = (batch.finished_at - batch.started_at).total_seconds() if batch.finished_at and batch.started_at else float("nan")
            say(f"import batch #{batch_id} succeeded in {took:.1f} s: {batch.message[:200]}")
            return
        if batch.status == ImportBatch.Status.FAILED:
            raise SystemExit(f"import batch #{batch_id} failed: {batch.error[:500]}")
        time.sleep(1)
    raise SystemExit(f"timeout: import batch #{batch_id} not finished within {args.timeout} s")


def cmd_campaign(args) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from campaigns.models import Campaign
    from campaigns.services.lifecycle import campaign_schedule

    call_command("create_demo_campaign")
    campaign = Campaign.objects.get(slug=CAMPAIGN_SLUG)
    # the draft's settings, as the admin edits them; a fixed seed: the same holdout draw in every run
    Campaign.objects.filter(pk=campaign.pk).update(throttle_per_minute=args.throttle, seed=args.seed)
    with transaction.atomic():
        campaign_schedule(campaign_id=campaign.pk)
    say(f"campaign #{campaign.pk} scheduled now at {args.throttle} messages/min, assignment seed {args.seed}; beat's dispatch_due starts it")
    if args.kill_share is None:
        cmd_wait_campaign(args)
    else:
        _kill_mid_campaign(args.kill_share, args.pids, args.timeout)


def _sent() -> int:
    from campaigns.models import Delivery

    return Delivery.objects.filter(campaign__slug=CAMPAIGN_SLUG, status=Delivery.Status.SENT).count()


def _in_handover() -> int:
    """Rows between SMTP hand-over and their 'sent' commit (CAMPAIGN_LEASE_SECONDS < 30 makes every send record it)."""
    from campaigns.models import Delivery

    return Delivery.objects.filter(campaign__slug=CAMPAIGN_SLUG, status=Delivery.Status.SENDING, smtp_started_at__isnull=False).count()


def _kill_mid_campaign(share: float, pids: list[int], timeout: float) -> None:
    from campaigns.models import Delivery

    deadline, last, total = time.monotonic() + timeout, _sent(), 0
    while time.monotonic() < deadline:
        total = total or Delivery.objects.filter(campaign__slug=CAMPAIGN_SLUG, is_holdout=False).count()
        now = _sent()
        if total and now >= share * total and now != last and _in_handover() == 0:
            _kill(pids)
            say(f"KILL POINT: SIGKILL {pids} mid-campaign after {now} of {total} messages were sent (none in hand-over)")
            return
        last = now
        time.sleep(0.005)
    raise SystemExit(f"timeout: fewer than {share:.0%} of {total} messages sent within {timeout:.0f} s")


def cmd_wait_campaign(args) -> None:
    from campaigns.models import Campaign
    from campaigns.selectors import campaign_outcome

    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        campaign = Campaign.objects.filter(slug=CAMPAIGN_SLUG).first()
        if campaign and campaign.status == Campaign.Status.SENT:
            took = (campaign.finished_at - campaign.started_at).total_seconds() if campaign.finished_at and campaign.started_at else float("nan")
            say(f"campaign #{campaign.pk} sent in {took:.1f} s: {campaign_outcome(campaign_id=campaign.pk)['message']}")
            return
        time.sleep(1)
    raise SystemExit(f"timeout: campaign not sent within {args.timeout} s ({_sent()} sent)")


def cmd_dump(args) -> None:
    from campaigns.models import Delivery
    from customers.models import Customer, Product
    from mlcore.models import CustomerScore, ModelVersion, RecommendationList, SegmentationRun, SegmentMembership

    churn = ModelVersion.objects.get(kind="churn", is_active=True)
    recommender = ModelVersion.objects.get(kind="recommender", is_active=True)
    run = SegmentationRun.objects.order_by("-pk").first()
    scores = CustomerScore.objects.filter(model_version=churn).values_list(
        "customer__external_id", "churn_probability", "probability_active", "expected_purchases_90", "expected_value_12m")
    external = dict(Customer.objects.values_list("pk", "external_id"))
    skus = dict(Product.objects.values_list("pk", "sku"))
    slots = RecommendationList.objects.filter(model_version=recommender).slots()
    recs = [(external[c], rank, skus[p], score) for c, rank, p, score, _ in slots if c in external and p in skus]  # as the join of the slot rows did
    segments = SegmentMembership.objects.filter(run=run).values_list("customer__external_id", "segment__name")
    ledger = Delivery.objects.filter(campaign__slug=CAMPAIGN_SLUG).values_list("customer__external_id", "customer__email", "is_holdout", "status")
    out = {
        "versions": {"churn": [churn.version, churn.artefact_sha256], "recommender": [recommender.version, recommender.artefact_sha256]},
        "scores": {c: list(v) for c, *v in scores},
        "recommendations": _grouped(recs),
        "segments": dict(segments),
        "ledger": {c: [e, h, s] for c, e, h, s in ledger},
    }
    Path(args.out).write_text(json.dumps(out, sort_keys=True))
    say(f"dumped {len(out['scores'])} scores, {sum(len(v) for v in out['recommendations'].values())} recommendations, "
        f"{len(out['segments'])} segment memberships, {len(out['ledger'])} ledger rows to {args.out}")


def _grouped(rows) -> dict:
    grouped: dict[str, list] = {}
    for customer, rank, sku, score in rows:
        grouped.setdefault(customer, []).append([rank, sku, score])
    return grouped


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("job")
    s.add_argument("entry")
    s.add_argument("kind")
    s.add_argument("--after-file", default="")
    s.add_argument("--kill-after", type=float, default=None)
    s.add_argument("--pids", type=int, nargs="*", default=[])
    s.add_argument("--timeout", type=float, default=600)
    s = sub.add_parser("wait-job")
    s.add_argument("kind")
    s.add_argument("--after", type=int, required=True)
    s.add_argument("--timeout", type=float, default=600)
    s = sub.add_parser("import-queued")
    s.add_argument("file")
    s.add_argument("--timeout", type=float, default=600)
    s = sub.add_parser("campaign")
    s.add_argument("--throttle", type=int, default=3000)
    s.add_argument("--seed", type=int, default=17)
    s.add_argument("--kill-share", type=float, default=None)
    s.add_argument("--pids", type=int, nargs="*", default=[])
    s.add_argument("--timeout", type=float, default=600)
    s = sub.add_parser("wait-campaign")
    s.add_argument("--timeout", type=float, default=600)
    s = sub.add_parser("dump")
    s.add_argument("out")
    return p


def main() -> None:
    args = parser().parse_args()
    import django

    django.setup()
    {"job": cmd_job, "wait-job": cmd_wait_job, "import-queued": cmd_import_queued, "campaign": cmd_campaign,
     "wait-campaign": cmd_wait_campaign, "dump": cmd_dump}[args.command](args)


if __name__ == "__main__":
    main()
