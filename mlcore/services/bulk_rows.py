"""Set-based bulk inserts of stored scores: COPY on PostgreSQL, batched bulk_create elsewhere.

One function so every area writes its millions of rows the same way; the portable path is what
SQLite (tests, the embedded default) runs, and both are tested.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction


def rows_insert(*, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence], batch_size: int = 5000) -> int:
    """Insert plain value rows (no ids) into `model`'s table; returns how many were written."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _copy_rows(model, fields, rows)
        return _bulk_create_rows(model, fields, rows, batch_size)


def _copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    columns = [model._meta.get_field(name).column for name in fields]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
    return written


def _bulk_create_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence], batch_size: int) -> int:
    attnames = [model._meta.get_field(name).attname for name in fields]
    batch, written = [], 0
    for row in rows:
        batch.append(model(**dict(zip(attnames, row, strict=True))))
        if len(batch) >= batch_size:
            model.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)
        written += len(batch)
    return written
