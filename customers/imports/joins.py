"""Exports spread over several files -> the one table an import reads.

Some shops export orders, order items and customers as separate files (Olist: items name the
order, the order names a per-order customer id, the customer file maps that to the person). A
mapping file may then hold a `join` section saying how to build the one stream of rows that the
usual mapping (`columns` and options, customers.imports.readers) is applied to:

    join:
      base: items.csv.gz                      # one row per output row before collapsing
      merge:                                  # left joins, in order ("key", not "on": YAML reads on as true)
        - {file: orders.csv.gz, key: order_id}
        - {file: customers.csv.gz, key: customer_id}
        - {file: items.csv.gz, key: order_id, first: true}   # first row per key only
      keep: {order_status: [delivered, shipped]}   # rows whose column is one of these
      constants: {country: Brazil}             # a column with one value
      format: {title: "{category_en}"}         # a column from others (str.format per row)
      count_as: quantity                       # identical rows collapse into one, counted here

Every value stays text, as the importer expects from a file. Rows whose join key finds no partner
keep empty cells (the importer's rules then count them). The result is written as a gzip CSV and
imported with `manage.py import_joined MAPPING --folder DIR` (customers.management.commands).
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import pandas as pd

JOIN_KEYS = {"base", "merge", "keep", "constants", "format", "count_as"}


class JoinSpecError(ValueError):
    """The join section of a mapping is not one this module can run."""


def read_text_table(path: Path) -> pd.DataFrame:
    """A CSV (gzip or plain) with every cell as text, empty cells as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def joined_table(spec: dict, folder: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows the join section describes (see the module doc), cut to `columns` when given.

    Rows are collapsed (count_as) after the cut, so columns that only number rows (an item's
    position in its order) do not keep identical purchases apart.
    """
    unknown = set(spec) - JOIN_KEYS
    if unknown or "base" not in spec:
        raise JoinSpecError(f"join needs 'base' and knows {sorted(JOIN_KEYS)}; got unknown {sorted(unknown)}")
    frame = read_text_table(folder / spec["base"])
    for step in spec.get("merge", []):
        frame = _merge(frame, step, folder)
    for column, allowed in (spec.get("keep") or {}).items():
        frame = frame[frame[column].isin([str(v) for v in allowed])]
    for column, value in (spec.get("constants") or {}).items():
        frame[column] = str(value)
    for column, template in (spec.get("format") or {}).items():
        frame[column] = [template.format(**row) for row in frame.to_dict("records")]
    count_as = spec.get("count_as")
    if columns is not None:
        missing = sorted(set(columns) - set(frame.columns) - {count_as})
        if missing:
            raise JoinSpecError(f"the mapping names columns the join does not make: {missing}")
        frame = frame[[c for c in dict.fromkeys(columns) if c != count_as]]
    if count_as:
        frame = _collapse(frame, count_as)
    return frame.reset_index(drop=True)


def _merge(frame: pd.DataFrame, step: dict, folder: Path) -> pd.DataFrame:
    other = read_text_table(folder / step["file"])
    key = step["key"]
    if key not in frame.columns or key not in other.columns:
        raise JoinSpecError(f"merge with {step['file']} on {key!r}: the column is missing on one side")
    if step.get("first"):
        other = other.drop_duplicates(key, keep="first")
    elif other[key].duplicated().any():
        raise JoinSpecError(f"merge with {step['file']} on {key!r}: the key repeats there; add 'first: true' to take one row per key")
    new = [c for c in other.columns if c == key or c not in frame.columns]
    return frame.merge(other[new], on=key, how="left").fillna("")


def _collapse(frame: pd.DataFrame, count_as: str) -> pd.DataFrame:
    """Identical rows (ignoring columns that only number them) become one row with their count."""
    columns = [c for c in frame.columns if c != count_as]
    counted = frame.groupby(columns, sort=False, dropna=False).size().rename(count_as).reset_index()
    return counted.astype({count_as: str})


def gzip_csv(frame: pd.DataFrame, columns: list[str]) -> bytes:
    """The columns the import needs, as a gzip CSV file's bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        handle.write(frame[list(dict.fromkeys(columns))].to_csv(index=False).encode("utf-8"))
    return buffer.getvalue()


def mapping_without_join(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if k not in {"join", "kind"}}
