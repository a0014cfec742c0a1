"""Fast insert of rows into one table: COPY on PostgreSQL, executemany elsewhere.

The one bulk-write path of the platform: feature snapshots, segment memberships, customer scores
and the recommender's top-N write frames (`frame_insert`); similar and popular lists stream value
rows (`rows_insert`); the importer COPYs its staging tables (`copy_insert`); `rows_held` stands in
for the foreign-key checks of a table whose keys carry no constraint. One ORM object per row
would dominate the run time (bulk_create of customer scores: about 80 s per million rows). Columns are the frame's, in its order; NaN and None become
NULL. `frame_insert`'s caller owns the transaction; `rows_insert` opens its own.

On PostgreSQL a frame of only int64/float64 columns goes through binary COPY, its buffer built
with numpy (no per-value text formatting: measured 30 s for 1M rows x 19 floats as text, about
two seconds as binary); other frames go through text COPY. Integer columns must be bigint in
the table (Django's BigAutoField ids and their foreign keys are).
"""
from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Model

CHUNK_ROWS = 200_000
PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + np.array([0, 0], dtype=">i4").tobytes()
PGCOPY_TRAILER = np.array([-1], dtype=">i2").tobytes()


def frame_insert(*, model: type[Model], frame: pd.DataFrame, binary: bool | None = None, chunk_rows: int = CHUNK_ROWS) -> int:
    """Insert every row of `frame` into `model`'s table; returns the number of rows written.

    binary=None picks binary COPY for all-numeric frames; pass False when integer columns are
    narrower than bigint in the table (binary COPY needs exact types, CSV COPY converts).
    """
    if frame.empty:
        return 0
    table = model._meta.db_table
    columns = [model._meta.get_field(name).column for name in frame.columns]
    if connection.vendor != "postgresql":
        executemany_insert(table, columns, frame, chunk_rows)
        return len(frame)
    if binary is None:
        binary = all(pd.api.types.is_integer_dtype(t) or pd.api.types.is_float_dtype(t) for t in frame.dtypes)
    copy_insert(table, columns, frame, binary=binary, chunk_rows=chunk_rows)
    return len(frame)


def rows_held(*, model: type[Model], ids: np.ndarray) -> np.ndarray:
    """The sorted ids among `ids` that are rows of `model`'s table, each held against deletion until
    the caller's transaction ends.

    What a foreign-key constraint checks at commit for every inserted row, done once per referenced
    row: a bulk writer of derived rows whose foreign keys carry no database constraint calls it in
    its transaction and keeps only the rows whose keys came back. On PostgreSQL the rows are locked
    FOR KEY SHARE (the lock the constraint's own check takes), so a concurrent delete waits for the
    writer's commit; SQLite serialises writers, so a plain read suffices there. One range scan from
    the smallest id to the largest: for the ids of a shard or a catalogue, not scattered ids.
    """
    ids = np.unique(np.asarray(ids, dtype=np.int64))
    if not ids.size:
        return ids
    table, key = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key} FROM {table} WHERE {key} >= %s AND {key} <= %s{lock}", [int(ids[0]), int(ids[-1])])  # noqa: S608 - quoted names, bound values
        found = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)
    return np.intersect1d(found, ids, assume_unique=True)


def rows_insert(*, model: type[Model], fields: Sequence[str], rows: Iterable[Sequence], batch_size: int = 5000) -> int:
    """Insert plain value rows (no ids) into `model`'s table in one transaction; returns the count."""
    frame = pd.DataFrame.from_records(list(rows), columns=list(fields))
    with transaction.atomic():
        return frame_insert(model=model, frame=frame, binary=False, chunk_rows=batch_size)


def binary_rows(frame: pd.DataFrame) -> bytes:
    """The rows of an all-numeric frame in PostgreSQL's binary COPY row format (no header).

    Rows are grouped by which of their values are NULL; each group has a fixed layout, written
    as one numpy structured array (row order does not matter to COPY).
    """
    values, kinds = [], []
    for name in frame.columns:
        integer = pd.api.types.is_integer_dtype(frame[name])
        values.append(frame[name].to_numpy(dtype="int64") if integer else frame[name].to_numpy(dtype="float64", na_value=np.nan))
        kinds.append(">i8" if integer else ">f8")
    null = np.column_stack([np.zeros(len(frame), bool) if k == ">i8" else np.isnan(v) for v, k in zip(values, kinds, strict=True)])
    key = null.astype("int64") @ (np.int64(1) << np.arange(len(kinds), dtype="int64"))  # one bit per column
    parts = []
    for code in np.unique(key):
        rows = np.flatnonzero(key == code)
        pattern = null[rows[0]]
        fields = [("n", ">i2")]
        for j, kind in enumerate(kinds):
            fields.append((f"l{j}", ">i4"))
            if not pattern[j]:
                fields.append((f"v{j}", kind))
        block = np.empty(len(rows), dtype=np.dtype(fields))
        block["n"] = len(kinds)
        for j in range(len(kinds)):
            block[f"l{j}"] = -1 if pattern[j] else 8
            if not pattern[j]:
                block[f"v{j}"] = values[j][rows]
        parts.append(block.tobytes())
    return b"".join(parts)


def copy_insert(table: str, columns: list[str], frame: pd.DataFrame, *, binary: bool, chunk_rows: int = CHUNK_ROWS,
                on_chunk: Callable[[int], None] | None = None) -> None:
    """COPY the frame's rows into `table` (PostgreSQL), `chunk_rows` at a time; `on_chunk(rows)` after each (progress)."""
    quote = connection.ops.quote_name
    # CSV (not text) format for the text path: pandas quotes tabs, quotes and newlines; backslashes stay literal
    options = "FORMAT binary" if binary else "FORMAT csv, NULL '\\N'"
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN WITH ({options})"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        if binary:
            copy.write(PGCOPY_HEADER)
        for start in range(0, len(frame), chunk_rows):
            chunk = frame.iloc[start:start + chunk_rows]
            if binary:
                copy.write(binary_rows(chunk))
            else:
                buffer = io.StringIO()
                chunk.to_csv(buffer, header=False, index=False, na_rep="\\N")
                copy.write(buffer.getvalue())
            if on_chunk is not None:
                on_chunk(len(chunk))
        if binary:
            copy.write(PGCOPY_TRAILER)


def executemany_insert(table: str, columns: list[str], frame: pd.DataFrame, chunk_rows: int = CHUNK_ROWS) -> None:
    quote = connection.ops.quote_name
    sql = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        for start in range(0, len(frame), chunk_rows):
            chunk = frame.iloc[start:start + chunk_rows].astype(object)
            chunk = chunk.where(chunk.notna(), None)
            cursor.executemany(sql, [tuple(map(_adapted, row)) for row in chunk.itertuples(index=False, name=None)])


def _adapted(value):
    """Datetimes as the backend stores them (SQLite: naive UTC text, as the ORM writes them)."""
    return connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value


@contextlib.contextmanager
def planner_settings(settings: dict[str, str] | None):
    """PostgreSQL planner settings for the statements inside, set for this transaction only and put
    back as they were on leaving (so a caller's own transaction does not keep them; after an error
    the rollback undoes them); nothing elsewhere. Opens a transaction (or a savepoint) for them."""
    if not settings or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(settings)), list(settings))
        before = dict(zip(settings, cursor.fetchone(), strict=True))
        for name, value in settings.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        yield  # an error inside rolls the transaction (or savepoint) back, and the settings with it
        for name, value in before.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def query_frame(*, queryset, columns: Sequence[str], text: Sequence[str] = (), planner: dict[str, str] | None = None) -> pd.DataFrame:
    """A `values_list` QuerySet read as a frame with these column names: one `COPY (query) TO
    STDOUT` (CSV) on PostgreSQL, the ORM's rows elsewhere.

    The read path of large frames (every order line): on PostgreSQL no Python object is made per
    value. Both paths give the same frame: `text` columns as str (None where NULL), the others
    as the numbers pandas infers (NaN where NULL); dates stay text on the COPY path and datetimes
    on the ORM path, for the caller's `pd.to_datetime`. `planner`: PostgreSQL planner settings for
    this one statement (`planner_settings`).
    """
    if connection.vendor != "postgresql":
        frame = pd.DataFrame.from_records(list(queryset.iterator(chunk_size=20000)), columns=list(columns))
    else:
        sql, params = queryset.query.sql_with_params()
        buffer = io.BytesIO()
        with planner_settings(planner), connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, NULL '\\N')", params) as copy:
            for block in copy:
                buffer.write(block)
        buffer.seek(0)
        frame = pd.read_csv(buffer, names=list(columns), header=None, keep_default_na=False, na_values=["\\N"],
                            dtype={name: str for name in text}) if buffer.getbuffer().nbytes else pd.DataFrame(columns=list(columns))
    for name in text:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


@contextlib.contextmanager
def indexes_built_after(table: str):
    """PostgreSQL, inside the caller's transaction: the table's secondary indexes, its unique
    constraints and its own foreign keys dropped for the statements inside and made again after
    them, under the same names and definitions; nothing elsewhere.

    For a bulk load into an empty table: an index is then built once by sorting, and each foreign
    key checked by one join when it is added, instead of an index insert per row and index and a
    deferred per-row check at commit (the full Online Retail file into an empty line table: 13.6 s
    against 2.8 s, docs/data.md). The primary key stays, so do check constraints and any unique
    index another table's foreign key relies on. An error inside (a duplicate key, a missing
    parent) rolls the transaction back, and the indexes and constraints with it. The table is held
    ACCESS EXCLUSIVE until the transaction ends: readers of it wait, so callers use this for a first
    load only."""
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_built_after needs a transaction: outside one, a failed load would leave the table without its indexes")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('u', 'f') "
            "AND NOT (contype = 'u' AND conindid IN (SELECT conindid FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass)) "
            "ORDER BY contype DESC, conname",  # 'u' before 'f' when they are made again
            [table, table])
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass "
            "AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1",
            [table])
        indexes = cursor.fetchall()
        quoted = connection.ops.quote_name(table)
        # Checks still queued for rows written earlier in the transaction would refuse the DDL
        # ("pending trigger events"): run them now, as commit would, then defer again (Django's
        # own check_constraints does the same).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")  # regclass text: quoted and schema-qualified as needed
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
