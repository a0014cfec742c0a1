"""The import service: one entry, import_file / import_bytes, for commands, admin and API.

Owns the ImportBatch row of each run. The batch row is written outside the data transaction
(so a failure is recorded); everything written to the shop tables happens inside one
transaction, so a bad file or an interrupted run leaves no partial rows and a re-run ends in
the same state as an uninterrupted one.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.utils import timezone

from customers.imports import catalog_load
from customers.imports.order_load import load_orders
from customers.imports.orders import clean_orders
from customers.imports.readers import ImportFileError, Layout, layout_for, read_table
from customers.imports.report import ImportReport
from customers.models import ImportBatch
from customers.webhooks.services import webhook_event_emit, webhook_event_wanted

Progress = Callable[[int], None]
PROGRESS_TTL_S = 6 * 3600
ERROR_CHARS = 4000  # stored error text is bounded (a failed 50 MB header must not become a 50 MB row)


def import_file(*, path: str | Path, kind: str, preset: str | None = None, mapping: dict | None = None,
                synthetic_emails: bool = False, progress: Progress | None = None, backend: str | None = None,
                source_name: str | None = None, on_total: Progress | None = None) -> int:
    """Import one file (gzip or plain, CSV or xlsx); returns the ImportBatch id.

    Raises ImportFileError (after marking the batch failed) for bad input."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(str(path), None, f"cannot read the file ({exc.strerror})") from exc
    return import_bytes(data=data, source_name=source_name or path.name, kind=kind, preset=preset, mapping=mapping,
                        synthetic_emails=synthetic_emails, progress=progress, backend=backend, on_total=on_total)


def import_bytes(*, data: bytes, source_name: str, kind: str, preset: str | None = None, mapping: dict | None = None,
                 synthetic_emails: bool = False, progress: Progress | None = None, backend: str | None = None,
                 on_total: Progress | None = None, batch_id: int | None = None) -> int:
    """Import raw bytes (a file's content); progress gets rows written, on_total the rows to write.

    `batch_id` adopts a pending batch made by import_upload_queue (the admin's upload) instead of a new one.
    """
    layout = layout_for(kind=kind, preset=preset, mapping=mapping)
    fields = {"kind": kind, "source_name": source_name[:300], "preset": preset or "", "mapping": dict(layout.columns),
              "status": ImportBatch.Status.RUNNING, "started_at": timezone.now()}
    if batch_id is not None and ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(**fields):
        batch = ImportBatch.objects.get(pk=batch_id)
    else:
        batch = ImportBatch.objects.create(**fields)
    cache.set(_beat_key(batch.pk), time.time(), PROGRESS_TTL_S)
    try:
        report = _run(batch, data, layout, synthetic_emails=synthetic_emails, progress=progress, backend=backend, on_total=on_total)
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
    batch = ImportBatch.objects.create(kind=kind, source_name=source_name[:300], preset=preset or "", status=ImportBatch.Status.PENDING,
                                       message="queued: waiting for a worker")
    params = {"batch_id": batch.pk, "path": path, "source_name": source_name, "kind": kind, "preset": preset,
              "mapping": mapping, "synthetic_emails": synthetic_emails}
    from customers.tasks import import_upload  # the task module imports this one

    transaction.on_commit(lambda: import_upload.delay(**params))
    return batch.pk


def import_upload_run(*, batch_id: int, path: str, source_name: str, kind: str, preset: str | None, mapping: dict | None,
                      synthetic_emails: bool) -> dict:
    """The queued half of an upload: import the kept file into its pending batch, then delete the file."""
    if not default_storage.exists(path):
        ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(
            status=ImportBatch.Status.FAILED, finished_at=timezone.now(), error=f"{source_name}: the uploaded file is gone; upload it again")
        return {"batch_id": batch_id, "status": "failed", "error": f"{source_name}: the uploaded file is gone; upload it again"}
    try:
        with default_storage.open(path, "rb") as handle:
            data = handle.read()
        import_bytes(data=data, source_name=source_name, kind=kind, preset=preset, mapping=mapping,
                     synthetic_emails=synthetic_emails, batch_id=batch_id)
    except (ImportFileError, ValueError) as exc:  # the user's file: the batch holds the "<file>, line N" reason
        ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(
            status=ImportBatch.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:4000])
    finally:
        default_storage.delete(path)
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status == ImportBatch.Status.FAILED:
        return {"batch_id": batch_id, "status": batch.status, "error": batch.error or "the import failed"}
    return {"batch_id": batch_id, "status": batch.status, "message": f"batch {batch_id}: {batch.status}"}


def import_finished_emit(*, batch: ImportBatch) -> None:
    """The import.finished webhook of a batch that succeeded or failed."""
    if webhook_event_wanted(event="import.finished"):
        webhook_event_emit(event="import.finished", payload={
            "batch_id": batch.pk, "kind": batch.kind, "source_name": batch.source_name, "status": batch.status,
            "rows_read": batch.rows_read, "rows_created": batch.rows_created, "rows_updated": batch.rows_updated,
            "rows_unchanged": batch.rows_unchanged, "error": batch.error, "finished_at": batch.finished_at,
        })


def _run(batch: ImportBatch, data: bytes, layout: Layout, *, synthetic_emails: bool, progress: Progress | None,
         backend: str | None, on_total: Progress | None) -> ImportReport:
    raw = read_table(data, source=batch.source_name, layout=layout, max_bytes=settings.IMPORT_MAX_DECOMPRESSED_BYTES)
    batch.sha256 = raw.sha256
    batch.save(update_fields=["sha256"])
    report = ImportReport()
    latest = timezone.now() + timedelta(days=settings.IMPORT_MAX_FUTURE_DAYS)
    done = _progress_recorder(batch, progress)

    def total(rows: int) -> None:
        _batch_total(batch, report, rows)
        if on_total:
            on_total(rows)

    if layout.kind == "orders":  # cleaning writes nothing: outside the transaction, so rows_total shows while loading
        frames = clean_orders(raw, layout, report, shop_timezone=settings.TIME_ZONE, currency=settings.SHOP_CURRENCY,
                              product_kinds=settings.SHOP_PRODUCT_KINDS, latest=latest)
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


def _progress_recorder(batch: ImportBatch, progress: Progress | None) -> Progress:
    """Rows written so far go to the cache (the load's transaction hides the row's own count
    from other connections until it commits); import_batch_rows_done reads them back."""
    def done(rows: int) -> None:
        batch.rows_done += rows
        cache.set_many({_done_key(batch.pk): batch.rows_done, _beat_key(batch.pk): time.time()}, PROGRESS_TTL_S)
        if progress:
            progress(rows)
    return done


def _done_key(batch_id: int) -> str:
    return f"customers:import-batch:{batch_id}:rows-done"


def _beat_key(batch_id: int) -> str:
    return f"customers:import-batch:{batch_id}:last-progress"


def import_batches_reap(*, stale_after_s: int | None = None) -> list[int]:
    """Mark failed every running batch without progress for stale_after_s (IMPORT_STALE_AFTER_S):
    its process was killed (the data transaction rolled back with it). Progress is the cache's
    last-progress time (a shared cache: Redis), else the batch's start. Returns the ids marked."""
    stale_after_s = settings.IMPORT_STALE_AFTER_S if stale_after_s is None else stale_after_s
    now = timezone.now()
    reaped = []
    for batch_id, started_at in ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING).values_list("id", "started_at"):
        beat = cache.get(_beat_key(batch_id))
        last = datetime.fromtimestamp(beat, tz=UTC) if beat else (started_at or now)
        if (now - last).total_seconds() < stale_after_s:
            continue
        error = (f"no progress since {last:%Y-%m-%d %H:%M:%S} UTC: the import process stopped (killed or lost); "
                 "nothing was written, import the file again")
        marked = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.RUNNING).update(
            status=ImportBatch.Status.FAILED, error=error, finished_at=now, rows_done=0)
        if marked:
            reaped.append(batch_id)
    return reaped


def import_batch_rows_done(*, batch: ImportBatch) -> int:
    """Rows written: live from the cache while the batch runs, from the row once it has ended."""
    if batch.status == ImportBatch.Status.RUNNING:
        return int(cache.get(_done_key(batch.pk), batch.rows_done))
    return batch.rows_done


def _batch_total(batch: ImportBatch, report: ImportReport, total: int) -> None:
    batch.rows_read = report.rows_read
    batch.rows_total = total
    batch.save(update_fields=["rows_read", "rows_total"])


def _batch_fail(batch: ImportBatch, error: str) -> None:
    batch.status = ImportBatch.Status.FAILED
    batch.error = error if len(error) <= ERROR_CHARS else error[:ERROR_CHARS] + " ... (cut)"
    batch.finished_at = timezone.now()
    batch.rows_done = 0
    batch.save(update_fields=["status", "error", "finished_at", "rows_done"])


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
