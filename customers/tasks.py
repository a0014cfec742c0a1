"""Customers' periodic tasks: the reaper of import batches whose process was killed.

customers.reap_stale_imports (beat: every 5 minutes) marks failed every running import batch
without progress for IMPORT_STALE_AFTER_S; the update is conditional on the status, so running
it twice (or beside a live import that still reports progress) is harmless.
"""
from __future__ import annotations

from celery import shared_task

from customers.imports.services import import_batches_reap


@shared_task(name="customers.reap_stale_imports")
def reap_stale_imports() -> dict:
    return {"reaped": import_batches_reap()}
