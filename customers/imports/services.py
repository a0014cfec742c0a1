"""The import service: one entry, import_file / import_bytes, for commands, admin and API.

Owns the ImportBatch row of each run. The batch row is written outside the data transaction
(so a failure is recorded); everything written to the shop tables happens inside one
transaction, so a bad file or an interrupted run leaves no partial rows and a re-run ends in
the same state as an uninterrupted one.

Every run reports to a Job of the one job runner (`infra.jobs`): the admin upload's task adopts
its job, a direct call (command, API, bench) makes one of kind "import". Rows written go to
`job_progress` (seen by other processes inside the load's transaction), the job fails with the
batch's own error and a direct call's job succeeds with the batch. A batch whose job died is
marked failed by `import_batches_reap`.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from customers.imports import catalog_load
from customers.imports.order_load import load_orders
from customers.imports.orders import clean_orders
from customers.imports.readers import ImportFileError, Layout, RawTable, layout_for, read_table
from customers.imports.report import ImportReport
from customers.models import ImportBatch
from customers.webhooks.services import webhook_event_emit, webhook_event_wanted
from infra import jobs
from infra.models import Job

Progress = Callable[[int], None]
JOB_KIND = "import"
FAILED_MESSAGE = "Failed: nothing was written (the reason is under Error)."  # a failed batch never keeps "queued" or "importing"
ERROR_CHARS = 4000  # stored error text is bounded (a failed 50 MB header must not become a 50 MB row)


def import_file(*, path: str | Path, kind: str, preset: str | None = None, mapping: dict | None = None,
                synthetic_emails: bool = False, progress: Progress | None = None, backend: str | None = None,
                source_name: str | None = None, on_total: Progress | None = None, job_id: int | None = None) -> int:
    """Import one file (gzip or plain, CSV or xlsx); returns the ImportBatch id.

    Raises ImportFileError (after marking the batch failed) for bad input."""
    path = Path(path)
    # the bytes are handed on without a name here, so the import can let go of them once they are read
    return import_bytes(data=_file_bytes(path), source_name=source_name or path.name, kind=kind, preset=preset, mapping=mapping,
                        synthetic_emails=synthetic_emails, progress=progress, backend=backend, on_total=on_total, job_id=job_id)


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFileError(str(path), None, f"cannot read the file ({exc.strerror})") from exc


def import_bytes(*, data: bytes, source_name: str, kind: str, preset: str | None = None, mapping: dict | None = None,
                 synthetic_emails: bool = False, progress: Progress | None = None, backend: str | None = None,
                 on_total: Progress | None = None, batch_id: int | None = None, job_id: int | None = None) -> int:
    """Import raw bytes (a file's content); progress gets rows written, on_total the rows to write.

    `batch_id` adopts a pending batch made by import_upload_queue (the admin's upload) instead of a new one;
    `job_id` is the job of the task running this import (the runner ends it), else the import makes and ends its own.
    """
    layout = layout_for(kind=kind, preset=preset, mapping=mapping)
    adopted = jobs.job_adopt(job_id=job_id, kind=JOB_KIND, params={"source_name": source_name[:300], "kind": kind})
    own_job = adopted != job_id  # none given (or it is gone): this import runs, and ends, its own job
    job_id = adopted
    if own_job:
        jobs.job_start(job_id=job_id, message=f"importing {source_name}")
    fields = {"kind": kind, "source_name": source_name[:300], "preset": preset or "", "mapping": dict(layout.columns),
              "status": ImportBatch.Status.RUNNING, "started_at": timezone.now(), "job_id": job_id, "message": f"importing {source_name[:300]}"}
    if batch_id is not None and ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(**fields):
        batch = ImportBatch.objects.get(pk=batch_id)
    else:
        batch = ImportBatch.objects.create(**fields)
    try:
        raw = read_table(data, source=batch.source_name, layout=layout, max_bytes=settings.IMPORT_MAX_DECOMPRESSED_BYTES)
        del data  # read: a million-customer file's bytes (~1 GB) are not held through the cleaning and the load
        report = _run(batch, raw, layout, synthetic_emails=synthetic_emails, progress=progress, backend=backend, on_total=on_total)
    except ImportFileError as exc:
        exc.batch_id = batch.pk
        _batch_fail(batch, str(exc))
        import_finished_emit(batch=batch)
        raise
    except DatabaseError as exc:  # a value the checks above let through: still the user's file, never a 500
        error = ImportFileError(source_name, None, f"the database refused a value ({type(exc).__name__}: {str(exc).strip()}); nothing was written")
        error.batch_id = batch.pk
        _batch_fail(batch, str(error))
        raise error from exc
    except Exception as exc:
        _batch_fail(batch, f"{source_name}: import interrupted ({type(exc).__name__}: {exc}); nothing was written")
        import_finished_emit(batch=batch)
        raise
    _batch_succeed(batch, report)
    if own_job:
        jobs.job_succeed(job_id=job_id, result={"batch_id": batch.pk, "rows_done": batch.rows_done}, message=batch.message)
    import_finished_emit(batch=batch)
    return batch.pk


UPLOADS = "imports/uploads"


def import_upload_queue(*, data: bytes, source_name: str, kind: str, preset: str | None = None, mapping: dict | None = None,
                        synthetic_emails: bool = False) -> int:
    """Keep an uploaded file and queue its import (never inside the request); the pending batch's id.

    The mapping is checked now, so a wrong one is refused on the form; the file's own content is
    checked by the import, which records any "<file>, line N" error on the batch.
    """
    layout_for(kind=kind, preset=preset, mapping=mapping)
    path = default_storage.save(f"{UPLOADS}/{uuid.uuid4().hex}.bin", ContentFile(data))
    job = jobs.job_create(kind=JOB_KIND, params={"source_name": source_name[:300], "kind": kind})
    batch = ImportBatch.objects.create(kind=kind, source_name=source_name[:300], preset=preset or "", status=ImportBatch.Status.PENDING,
                                       message="queued: waiting for a worker", job=job)
    params = {"job_id": job.pk, "batch_id": batch.pk, "path": path, "source_name": source_name, "kind": kind, "preset": preset,
              "mapping": mapping, "synthetic_emails": synthetic_emails}
    from customers.tasks import import_upload  # the task module imports this one

    transaction.on_commit(lambda: import_upload.delay(**params))
    return batch.pk


def import_upload_run(*, job_id: int, batch_id: int, path: str, source_name: str, kind: str, preset: str | None,
                      mapping: dict | None, synthetic_emails: bool) -> dict:
    """The queued half of an upload: import the kept file into its pending batch, then delete the file.

    The task's runner ends the job: failed with the batch's error (the summary's "error"), else succeeded."""
    if not default_storage.exists(path):
        ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(
            status=ImportBatch.Status.FAILED, finished_at=timezone.now(), error=f"{source_name}: the uploaded file is gone; upload it again",
            message=FAILED_MESSAGE, job_id=job_id)
        return {"batch_id": batch_id, "status": "failed", "error": f"{source_name}: the uploaded file is gone; upload it again"}
    try:
        import_bytes(data=_stored_bytes(path), source_name=source_name, kind=kind, preset=preset, mapping=mapping,
                     synthetic_emails=synthetic_emails, batch_id=batch_id, job_id=job_id)
    except (ImportFileError, ValueError) as exc:  # the user's file: the batch holds the "<file>, line N" reason
        ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(
            status=ImportBatch.Status.FAILED, finished_at=timezone.now(), error=_bounded(str(exc)), message=FAILED_MESSAGE, job_id=job_id)
    finally:
        default_storage.delete(path)
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status == ImportBatch.Status.FAILED:
        return {"batch_id": batch_id, "status": batch.status, "error": batch.error or "the import failed"}
    return {"batch_id": batch_id, "status": batch.status, "message": f"batch {batch_id}: {batch.status}"}


def _stored_bytes(path: str) -> bytes:
    with default_storage.open(path, "rb") as handle:
        return handle.read()


def import_finished_emit(*, batch: ImportBatch) -> None:
    """The import.finished webhook of a batch that succeeded or failed."""
    if webhook_event_wanted(event="import.finished"):
        webhook_event_emit(event="import.finished", payload={
            "batch_id": batch.pk, "kind": batch.kind, "source_name": batch.source_name, "status": batch.status,
            "rows_read": batch.rows_read, "rows_created": batch.rows_created, "rows_updated": batch.rows_updated,
            "rows_unchanged": batch.rows_unchanged, "error": batch.error, "finished_at": batch.finished_at,
        })


def _run(batch: ImportBatch, raw: RawTable, layout: Layout, *, synthetic_emails: bool, progress: Progress | None,
         backend: str | None, on_total: Progress | None) -> ImportReport:
    batch.sha256 = raw.sha256
    batch.save(update_fields=["sha256"])
    report = ImportReport()
    latest = timezone.now() + timedelta(days=settings.IMPORT_MAX_FUTURE_DAYS)

    def done(rows: int) -> None:  # job_progress is seen by other processes while the load's transaction is open
        jobs.job_progress(job_id=batch.job_id, advance=rows)
        if progress:
            progress(rows)

    def total(rows: int) -> None:
        _batch_total(batch, report, rows)
        jobs.job_progress(job_id=batch.job_id, total=rows)
        if on_total:
            on_total(rows)

    if layout.kind == "orders":  # cleaning writes nothing: outside the transaction, so rows_total shows while loading
        frames = clean_orders(raw, layout, report, shop_timezone=settings.TIME_ZONE, currency=settings.SHOP_CURRENCY,
                              product_kinds=settings.SHOP_PRODUCT_KINDS, latest=latest)
        raw = None  # the file's raw text columns are the largest frame of a big import; the load needs the clean frames only
        total(len(frames.customers) + len(frames.products) + len(frames.orders) + len(frames.lines))
    with transaction.atomic():
        if layout.kind == "orders":
            load_orders(frames, report, progress=done, backend=backend)
            if synthetic_emails:
                report.figures["synthetic_emails"] = catalog_load.customers_add_synthetic_emails(
                    external_ids=list(frames.customers["external_id"]))
        else:
            catalog_load.run(layout, raw, report, progress=done, backend=backend, total=total,
                             shop_timezone=settings.TIME_ZONE, product_kinds=settings.SHOP_PRODUCT_KINDS, latest=latest)
    return report


def import_batches_reap(*, now: datetime | None = None) -> list[int]:
    """Mark failed every batch whose import process stopped (killed or lost; its data transaction
    rolled back with it). Its job says so: failed by the job reaper once it stopped beating. A
    command's or the API's job has no worker beating for it: it is failed here after
    IMPORT_STALE_AFTER_S without progress. A batch without a job (made before jobs ran imports)
    is dead IMPORT_STALE_AFTER_S after its start. Returns the ids marked."""
    now = now or timezone.now()
    stale_after_s = settings.IMPORT_STALE_AFTER_S
    open_batches = ImportBatch.objects.filter(status__in=[ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING])
    direct = list(open_batches.filter(job__status=Job.Status.RUNNING, job__task_id="").values_list("job_id", flat=True))
    if direct:
        jobs.jobs_reap_stale(now=now, job_ids=direct, stale_seconds=stale_after_s)
    cutoff = now - timedelta(seconds=stale_after_s)
    dead = open_batches.filter(Q(job__status=Job.Status.FAILED)
                               | Q(job__isnull=True, status=ImportBatch.Status.RUNNING, started_at__lt=cutoff))
    reaped = []
    for batch in dead.select_related("job"):
        last = _last_progress(batch)
        error = f"no progress since {last:%Y-%m-%d %H:%M:%S} UTC: the import process stopped"
        error += f" ({batch.job.error})" if batch.job and batch.job.error else " (killed or lost)"
        marked = ImportBatch.objects.filter(pk=batch.pk, status=batch.status).update(
            status=ImportBatch.Status.FAILED, error=_bounded(error + "; nothing was written, import the file again"), finished_at=now, rows_done=0)
        if marked:
            reaped.append(batch.pk)
    return reaped


def _last_progress(batch: ImportBatch) -> datetime:
    last = jobs.job_last_sign(job=batch.job) if batch.job else None
    return (last or batch.started_at or batch.created_at).astimezone(UTC)


def import_batch_rows_done(*, batch: ImportBatch) -> int:
    """Rows written: live from the batch's job while it runs (the load's transaction hides its
    counts from other connections until it commits), from the row once it has ended."""
    if batch.status == ImportBatch.Status.RUNNING and batch.job is not None:
        return int(jobs.job_live(job=batch.job)["done"])
    return batch.rows_done


def _batch_total(batch: ImportBatch, report: ImportReport, total: int) -> None:
    batch.rows_read = report.rows_read
    batch.rows_total = total
    batch.save(update_fields=["rows_read", "rows_total"])


def _batch_fail(batch: ImportBatch, error: str) -> None:
    """The batch and its job fail with the same text (the job_task runner's own job_fail is then a no-op)."""
    batch.status = ImportBatch.Status.FAILED
    batch.error = _bounded(error)
    batch.message = FAILED_MESSAGE
    batch.finished_at = timezone.now()
    batch.rows_done = 0
    batch.save(update_fields=["status", "error", "message", "finished_at", "rows_done"])
    if batch.job_id:
        jobs.job_progress(job_id=batch.job_id, done=0)  # rolled back: nothing was written
        jobs.job_fail(job_id=batch.job_id, error=batch.error)


def _bounded(error: str) -> str:
    return error if len(error) <= ERROR_CHARS else error[:ERROR_CHARS] + " ... (cut)"


def _batch_succeed(batch: ImportBatch, report: ImportReport) -> None:
    batch.rows_read = report.rows_read
    batch.rows_created = sum(t.created for t in report.tables.values())
    batch.rows_updated = sum(t.updated for t in report.tables.values())
    batch.rows_unchanged = sum(t.unchanged for t in report.tables.values())
    batch.rule_counts = {**report.rules, **{f"dropped:{k}": v for k, v in report.dropped.items()}}
    batch.samples = report.samples
    batch.entity_counts = {**report.as_dict()["tables"], "figures": report.figures}
    batch.rows_done = batch.rows_total
    batch.message = _message(batch, report)
    batch.status = ImportBatch.Status.SUCCEEDED
    batch.finished_at = timezone.now()
    batch.save()


def _message(batch: ImportBatch, report: ImportReport) -> str:
    if batch.rows_created == 0 and batch.rows_updated == 0:
        same = ImportBatch.objects.filter(kind=batch.kind, sha256=batch.sha256, status=ImportBatch.Status.SUCCEEDED).exclude(pk=batch.pk).first()
        again = f" (the same file as batch #{same.pk})" if same else ""
        return f"Unchanged: the database already held every row of this file{again}; nothing was written."
    tables = ", ".join(f"{name} +{t.created} ~{t.updated} ={t.unchanged}" for name, t in report.tables.items())
    dropped = sum(report.dropped.values())
    return f"Read {report.rows_read} rows, dropped {dropped} by cleaning rules; {tables} (created ~updated =unchanged)."
