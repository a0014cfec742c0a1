"""Fast insert of a DataFrame into one table: COPY on PostgreSQL, executemany elsewhere.

Used for the million-row writes of feature snapshots and segment memberships, where one ORM
object per row would dominate the run time. Columns are the frame's, in its order; NaN and
None become NULL. The caller owns the transaction.
"""
from __future__ import annotations

import io

import pandas as pd
from django.db import connection
from django.db.models import Model

CHUNK_ROWS = 200_000


def frame_insert(*, model: type[Model], frame: pd.DataFrame) -> int:
    """Insert every row of `frame` into `model`'s table; returns the number of rows written."""
    if frame.empty:
        return 0
    table = model._meta.db_table
    columns = [model._meta.get_field(name).column for name in frame.columns]
    if connection.vendor == "postgresql":
        copy_insert(table, columns, frame)
    else:
        executemany_insert(table, columns, frame)
    return len(frame)


def copy_insert(table: str, columns: list[str], frame: pd.DataFrame) -> None:
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for start in range(0, len(frame), CHUNK_ROWS):
            buffer = io.StringIO()
            frame.iloc[start:start + CHUNK_ROWS].to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N")
            copy.write(buffer.getvalue())


def executemany_insert(table: str, columns: list[str], frame: pd.DataFrame) -> None:
    quote = connection.ops.quote_name
    sql = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start:start + CHUNK_ROWS].astype(object)
            chunk = chunk.where(chunk.notna(), None)
            cursor.executemany(sql, list(chunk.itertuples(index=False, name=None)))
