"""Writing clean frames into the shop tables, counting created / updated / unchanged rows.

One function, load_backend(), picks the path: on PostgreSQL the frame is COPYed into a
temporary staging table and merged with one set-based INSERT ... ON CONFLICT DO UPDATE ...
WHERE IS DISTINCT FROM; elsewhere (SQLite) existing rows are fetched by natural key, compared
in pandas, and new or changed rows written with batched executemany. Both give the same rows
and the same counts (tests run both). Callers wrap a whole import in one transaction.
"""
from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from customers.imports.report import TableCounts
from infra.bulk import copy_insert, indexes_built_after

BATCH_SIZE = 5000
KEY_CHUNK = 900  # stays under every backend's limit of query parameters

Progress = Callable[[int], None]


def load_backend() -> str:
    """'copy' (COPY + set-based upsert) on PostgreSQL, 'batched' (portable executemany) elsewhere."""
    return "copy" if connection.vendor == "postgresql" else "batched"


@dataclass(frozen=True)
class TableLoad:
    """Upsert `frame` into `model` by the unique natural key `key`.

    fields: written on insert and compared / updated on an existing row; insert_only: written on
    insert only; least: the smaller of old and new wins; keep_existing: an existing non-blank
    value wins; keep_if_missing: a missing (None or blank) new value keeps the old one.
    """

    model: type[models.Model]
    key: str
    frame: pd.DataFrame
    fields: tuple[str, ...]
    insert_only: tuple[str, ...] = ()
    least: tuple[str, ...] = ()
    keep_existing: tuple[str, ...] = ()
    keep_if_missing: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def field(self, name: str) -> models.Field:
        return self.model._meta.get_field(name.removesuffix("_id") if name.endswith("_id") and name != "external_id" else name)


def table_load(spec: TableLoad, counts: TableCounts, *, progress: Progress | None = None, backend: str | None = None) -> None:
    if spec.frame.empty:
        return
    backend = backend or load_backend()
    before = counts.created + counts.updated
    if backend == "copy":
        _copy_upsert(spec, counts, progress or _noop)
    elif backend == "batched":
        _batched_upsert(spec, counts, progress or _noop)
    else:
        raise ValueError(f"Unknown load backend {backend!r}; expected 'copy' or 'batched'.")
    statistics_refresh(spec.model, written=counts.created + counts.updated - before)


def statistics_refresh(model: type[models.Model], *, written: int) -> None:
    """ANALYZE a PostgreSQL table this load wrote IMPORT_ANALYZE_MIN_ROWS rows or more into.

    PostgreSQL's advice after a bulk load: the planner otherwise keeps the empty table's estimates
    until autovacuum reaches it (after the million-customer import, the first night's order-days
    query ran over 5 minutes on a plan for a few thousand rows; 4 s after ANALYZE). It samples a
    bounded number of rows (about a second on 11.5M lines) and runs inside the load's transaction,
    so the column statistics (pg_statistic) roll back with a failed load; the table's row and page
    estimates (pg_class) are written in place and stay until the next ANALYZE or vacuum. It holds
    its SHARE UPDATE EXCLUSIVE lock until the import commits: vacuum, another ANALYZE and DDL of
    that table wait for it; reads and writes do not.
    """
    if connection.vendor != "postgresql" or written < settings.IMPORT_ANALYZE_MIN_ROWS:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def after_batch(rows: int) -> None:
    """Called after every written batch; the place a test raises to simulate a killed import."""


def _noop(_rows: int) -> None:
    return None


# --- values ---------------------------------------------------------------------------------
def python_values(spec: TableLoad, columns: Iterable[str]) -> list[list]:
    """The frame's columns as Python values of the model fields' types (None for missing)."""
    return [_python_column(spec.field(c), spec.frame[c]) for c in columns]


def _python_column(field: models.Field, series: pd.Series) -> list:
    if isinstance(field, models.DateTimeField):
        return [None if pd.isna(v) else v.to_pydatetime() for v in pd.to_datetime(series, utc=True)]
    if isinstance(field, models.DecimalField):
        places = field.decimal_places
        return [None if v is None else Decimal(f"{v:.{places}f}") for v in map(_plain, series.astype(object).tolist())]
    if isinstance(field, models.JSONField):
        return list(series)
    return [_plain(v) for v in series.astype(object).tolist()]


def _plain(v):
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _db_value(field: models.Field, value):
    if value is None:
        return None
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(field, models.UUIDField) and isinstance(value, str) and not connection.features.has_native_uuid_field:
        return value  # already the 32 hex digits SQLite stores
    if isinstance(field, models.JSONField | models.UUIDField):
        return field.get_db_prep_save(value, connection)
    return value


def _defaults(spec: TableLoad, written: list[str], now: datetime) -> list[tuple[models.Field, object]]:
    """Every other concrete column gets its default (timestamps: now), as an INSERT must name it."""
    out = []
    for f in spec.model._meta.concrete_fields:
        if f.primary_key or f.attname in written or f.name in written:
            continue
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        out.append((f, value))
    return out


def _merged(spec: TableLoad, name: str, old, new):
    if name in spec.least and old is not None and new is not None:
        return min(old, new)
    if name in spec.keep_existing and old not in (None, ""):
        return old
    if name in spec.keep_if_missing and new in (None, "", [], {}):
        return old
    return new


# --- batched (portable) ---------------------------------------------------------------------
def keyed(model: type[models.Model], key: str, values: list) -> models.QuerySet:
    """Rows by natural key."""
    return model.objects.filter(**{f"{key}__in": values})


def key_text(value) -> str:
    """A key as the frames spell it: UUID keys (order-line hashes) as 32 hex digits."""
    return value.hex if isinstance(value, uuid.UUID) else value


def key_rows(model: type[models.Model], key: str, values: list, columns: list[str]) -> list[tuple]:
    """The `columns` of the rows whose `key` is one of `values`; UUID columns as 32 hex digits (key_text).

    On PostgreSQL one query (`= ANY` of one array, columns read as text where they are UUIDs); the
    chunks of KEY_CHUNK parameters took 2.7 s of a repeated Online Retail import in 90 round trips and
    a Python UUID object per key. Elsewhere (SQLite's limit on parameters) chunks through the ORM."""
    if not values:
        return []
    if connection.vendor != "postgresql":
        return [tuple(key_text(v) for v in row) for start in range(0, len(values), KEY_CHUNK)
                for row in keyed(model, key, values[start:start + KEY_CHUNK]).values_list(*columns)]
    q = connection.ops.quote_name
    field = model._meta.get_field(key)
    selected = ", ".join(_text_column(model._meta.get_field(c)) for c in columns)
    sql = f"SELECT {selected} FROM {q(model._meta.db_table)} WHERE {q(field.column)} = ANY(%s::{field.db_type(connection)}[])"
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(values)])
        return cursor.fetchall()


def _text_column(field: models.Field) -> str:
    column = connection.ops.quote_name(field.column)
    return f"replace({column}::text, '-', '')" if isinstance(field, models.UUIDField) else column


def _existing(spec: TableLoad, keys: list) -> dict:
    if not spec.model.objects.exists():
        return {}
    out = {}
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start:start + KEY_CHUNK]
        rows = keyed(spec.model, spec.key, chunk).values_list(spec.key, "id", *spec.fields)
        out.update({key_text(row[0]): row[1:] for row in rows})
    return out


def _sqlite_tune() -> None:
    """A bigger page cache: random inserts into the hash-key index otherwise thrash the 2 MB default."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")


def _batched_upsert(spec: TableLoad, counts: TableCounts, progress: Progress) -> None:
    now = timezone.now()
    _sqlite_tune()
    keys = list(spec.frame[spec.key])
    fields, extra = list(spec.fields), list(spec.insert_only)
    values = dict(zip(fields + extra, python_values(spec, fields + extra), strict=True))
    existing = _existing(spec, keys)
    inserts, updates = [], []
    for i, key in enumerate(keys):
        new = [values[f][i] for f in fields]
        if key not in existing:
            inserts.append([key, *new, *(values[f][i] for f in extra)])
            continue
        row_id, *old = existing[key]
        merged = [_merged(spec, f, o, n) for f, o, n in zip(fields, old, new, strict=True)]
        if merged != list(old):
            updates.append([*merged, row_id])
    _insert_rows(spec, [spec.key, *fields, *extra], inserts, now, progress)
    _update_rows(spec, fields, updates, now, progress)
    counts.created += len(inserts)
    counts.updated += len(updates)
    counts.unchanged += len(keys) - len(inserts) - len(updates)
    progress(len(keys) - len(inserts) - len(updates))


def _insert_rows(spec: TableLoad, columns: list[str], rows: list[list], now: datetime, progress: Progress) -> None:
    defaults = _defaults(spec, columns, now)
    field_of = [spec.field(c) if c != spec.key else spec.model._meta.get_field(spec.key) for c in columns]
    names = [spec.field(c).column if c != spec.key else spec.model._meta.get_field(spec.key).column for c in columns]
    names += [f.column for f, _ in defaults]
    default_values = [_db_value(f, v) for f, v in defaults]
    q = connection.ops.quote_name
    sql = f"INSERT INTO {q(spec.table)} ({', '.join(q(n) for n in names)}) VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start:start + BATCH_SIZE]
            cursor.executemany(sql, [[_db_value(f, v) for f, v in zip(field_of, row, strict=True)] + default_values for row in batch])
            progress(len(batch))
            after_batch(len(batch))


def _update_rows(spec: TableLoad, fields: list[str], rows: list[list], now: datetime, progress: Progress) -> None:
    if not rows:
        return
    q = connection.ops.quote_name
    field_of = [spec.field(f) for f in fields]
    sets = [f"{q(f.column)} = %s" for f in field_of]
    stamp = [f for f in spec.model._meta.concrete_fields if getattr(f, "auto_now", False)]
    sets += [f"{q(f.column)} = %s" for f in stamp]
    sql = f"UPDATE {q(spec.table)} SET {', '.join(sets)} WHERE id = %s"
    stamp_values = [_db_value(f, now) for f in stamp]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start:start + BATCH_SIZE]
            cursor.executemany(sql, [[_db_value(f, v) for f, v in zip(field_of, row[:-1], strict=True)] + stamp_values + [row[-1]] for row in batch])
            progress(len(batch))
            after_batch(len(batch))


# --- PostgreSQL: COPY into staging, one set-based upsert ------------------------------------
def _copy_upsert(spec: TableLoad, counts: TableCounts, progress: Progress) -> None:
    now = timezone.now()
    columns = [spec.key, *spec.fields, *spec.insert_only]
    cols = [spec.model._meta.get_field(spec.key).column] + [spec.field(c).column for c in columns[1:]]
    stage = f"_import_stage_{spec.table}"
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {q(stage)}")
        cursor.execute(f"CREATE TEMP TABLE {q(stage)} ON COMMIT DROP AS SELECT {', '.join(q(c) for c in cols)} FROM {q(spec.table)} WITH NO DATA")
        _copy_rows(stage, cols, spec, columns, progress)
        if _first_load(spec):
            with indexes_built_after(spec.table):
                cursor.execute(_insert_sql(spec, stage, cols, now), _default_params(spec, now))
                created, updated = cursor.rowcount, 0
        else:
            cursor.execute(f"ANALYZE {q(stage)}")  # row counts for the join below (a temp table has none)
            cursor.execute(_unchanged_delete_sql(spec, stage))
            cursor.execute(_upsert_sql(spec, stage, cols, now), _upsert_params(spec, now))
            created, updated = cursor.fetchone()
    counts.created += created
    counts.updated += updated
    counts.unchanged += len(spec.frame) - created - updated


def _first_load(spec: TableLoad) -> bool:
    """A load of IMPORT_FIRST_LOAD_MIN_ROWS rows or more into a table that holds none: its rows are
    inserted plainly and its indexes and foreign keys made after them (indexes_built_after).

    The table is locked before it is looked at again, so no other import can fill it in between
    (one that committed rows meanwhile sends this load down the usual merge)."""
    if len(spec.frame) < settings.IMPORT_FIRST_LOAD_MIN_ROWS:
        return False
    table = connection.ops.quote_name(spec.table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        if cursor.fetchone()[0]:
            return False
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        return not cursor.fetchone()[0]


def _copy_rows(stage: str, cols: list[str], spec: TableLoad, columns: list[str], progress: Progress) -> None:
    """COPY in CSV written by pandas (C speed), one BATCH_SIZE slice at a time.

    Progress is reported once the COPY has ended: it writes the job's row (infra.jobs.job_progress),
    and the connection can run no other statement while a COPY is open (psycopg would wait for ever)."""
    copy_insert(stage, cols, _copy_text_frame(spec, columns), binary=False, chunk_rows=BATCH_SIZE, on_chunk=after_batch)
    progress(len(spec.frame))


def _copy_text_frame(spec: TableLoad, columns: list[str]) -> pd.DataFrame:
    """The columns as COPY-ready values: UTC timestamps, fixed decimals, JSON text, nullable ints."""
    out = pd.DataFrame(index=spec.frame.index)
    for name in columns:
        field = spec.model._meta.get_field(spec.key) if name == spec.key else spec.field(name)
        series = spec.frame[name]
        if isinstance(field, models.DateTimeField):
            stamps = pd.to_datetime(series, utc=True)
            out[name] = stamps.dt.strftime("%Y-%m-%d %H:%M:%S.%f+00:00").where(stamps.notna(), None)
        elif isinstance(field, models.DecimalField):
            numbers = pd.to_numeric(series, errors="coerce").round(field.decimal_places)
            out[name] = _fixed(numbers, field.decimal_places)
        elif isinstance(field, models.JSONField):
            out[name] = series.map(json.dumps)
        elif isinstance(field, models.IntegerField | models.ForeignKey):
            out[name] = pd.to_numeric(series, errors="coerce").astype("Int64")
        else:
            out[name] = series
    return out


def _fixed(numbers: pd.Series, places: int) -> pd.Series:
    """Numbers as fixed-point text (None for NaN), formatted once per distinct value (prices repeat)."""
    codes, uniques = pd.factorize(numbers + 0.0)  # -0.0 + 0.0 is 0.0: one spelling of zero (numeric has no -0)
    text = np.array([f"{v:.{places}f}" for v in uniques] + [None], dtype=object)
    return pd.Series(text[codes], index=numbers.index)  # code -1 (NaN) takes the trailing None


def _merge_sql(spec: TableLoad, name: str, column: str, new_alias: str = "EXCLUDED") -> str:
    new, old = f'{new_alias}."{column}"', f't."{column}"'
    if name in spec.least:
        return f"LEAST({old}, {new})"
    if name in spec.keep_existing:
        return f"COALESCE(NULLIF({old}, ''), {new})"
    if name in spec.keep_if_missing:
        field = spec.field(name)
        if isinstance(field, models.JSONField):
            return f"COALESCE(NULLIF(NULLIF({new}, '[]'::jsonb), '{{}}'::jsonb), {old})"
        blankable = isinstance(field, models.CharField | models.TextField)
        return f"COALESCE(NULLIF({new}, ''), {old})" if blankable else f"COALESCE({new}, {old})"
    return new


def _unchanged_delete_sql(spec: TableLoad, stage: str) -> str:
    """Drop the staged rows the merge would leave as they are: one join (a hash join for a whole
    file again) instead of an ON CONFLICT probe, row lock and comparison per row (3.2 of the 3.5 s
    of a repeated Online Retail import's line merge). What is left, new or changed, goes to the merge."""
    fields = [(f, spec.field(f).column) for f in spec.fields]
    old = ", ".join(f't."{c}"' for _f, c in fields)
    merged = ", ".join(_merge_sql(spec, f, c, new_alias="s") for f, c in fields)
    key = spec.model._meta.get_field(spec.key).column
    return (f'DELETE FROM "{stage}" s USING "{spec.table}" t WHERE t."{key}" = s."{key}" '
            f"AND ({old}, NULL) IS NOT DISTINCT FROM ({merged}, NULL)")


def _insert_sql(spec: TableLoad, stage: str, cols: list[str], now: datetime) -> str:
    """Every staged row inserted, the other columns at their defaults (_default_params); a first load stops here."""
    defaults = _defaults(spec, [spec.key, *spec.fields, *spec.insert_only], now)
    insert_cols = cols + [f.column for f, _ in defaults]
    select = ", ".join([f's."{c}"' for c in cols] + ["%s"] * len(defaults))
    return f'INSERT INTO "{spec.table}" AS t ({", ".join(insert_cols)}) SELECT {select} FROM "{stage}" s'


def _upsert_sql(spec: TableLoad, stage: str, cols: list[str], now: datetime) -> str:
    fields = [(f, spec.field(f).column) for f in spec.fields]
    merges = [_merge_sql(spec, f, c) for f, c in fields]
    sets = [f'"{c}" = {m}' for (_f, c), m in zip(fields, merges, strict=True)]
    sets += [f'"{f.column}" = %s' for f in spec.model._meta.concrete_fields if getattr(f, "auto_now", False)]
    old = ", ".join(f't."{c}"' for _f, c in fields)
    conflict = f'("{cols[0]}")'
    return (
        f"WITH up AS ({_insert_sql(spec, stage, cols, now)} "
        f"ON CONFLICT {conflict} DO UPDATE SET {', '.join(sets)} "
        f"WHERE ({old}, NULL) IS DISTINCT FROM ({', '.join(merges)}, NULL) RETURNING (xmax = 0) AS inserted) "
        "SELECT COUNT(*) FILTER (WHERE inserted), COUNT(*) FILTER (WHERE NOT inserted) FROM up"
    )


def _default_params(spec: TableLoad, now: datetime) -> list:
    defaults = _defaults(spec, [spec.key, *spec.fields, *spec.insert_only], now)
    return [_db_value(f, v) for f, v in defaults]


def _upsert_params(spec: TableLoad, now: datetime) -> list:
    stamps = [f for f in spec.model._meta.concrete_fields if getattr(f, "auto_now", False)]
    return _default_params(spec, now) + [_db_value(f, now) for f in stamps]
