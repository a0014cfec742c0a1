"""Reading import files: gzip or plain, CSV or Excel, a named preset or a column mapping.

A file is read into a frame of *canonical* columns (strings, nothing parsed yet) plus `_line`,
the file line number of each row (the header is line 1), so every later error and sample can
name the line. Anything that makes the file unreadable raises ImportFileError naming the file
and the first bad line.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import yaml

GZIP_MAGIC = b"\x1f\x8b"
FREE_TEXT = frozenset({"description", "title", "text", "name"})
XLSX_MAGIC = b"PK\x03\x04"


class ImportFileError(ValueError):
    """Bad input: names the file, the first bad line (when known) and what is wrong."""

    def __init__(self, source: str, line: int | None, problem: str):
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {problem}")


# Canonical fields of each kind of import: (required, optional).
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orders": (
        ("order_id", "sku", "quantity", "placed_at", "unit_price"),
        ("description", "customer_id", "country", "currency"),
    ),
    "customers": (("external_id",), ("email", "name", "country", "first_seen")),
    "products": (("sku",), ("title", "description", "category", "price", "kind")),
    "reviews": (
        ("rating",),
        ("external_id", "product_sku", "customer_id", "title", "text", "language", "created_at",
         "category", "class_name", "division"),
    ),
    "events": (("customer_id", "kind", "occurred_at"), ("external_id", "sku")),
}


@dataclass(frozen=True)
class Layout:
    """How to read one export format: canonical field -> file column, and the file's conventions."""

    kind: str
    columns: dict[str, str]
    name: str = "mapping"
    delimiter: str = ","
    encoding: str = "utf-8"
    date_format: str | None = None  # None: ISO first, then pandas' mixed parser
    dayfirst: bool = False
    currency: str | None = None  # None: settings.SHOP_CURRENCY
    language: str = ""
    cancellation_prefix: str = "C"
    sku_prefix: str = ""  # reviews: product reference -> SKU prefix
    options: dict = field(default_factory=dict)


PRESETS: dict[str, Layout] = {
    "online_retail": Layout(
        kind="orders",
        name="online_retail",
        columns={
            "order_id": "InvoiceNo", "sku": "StockCode", "description": "Description", "quantity": "Quantity",
            "placed_at": "InvoiceDate", "unit_price": "UnitPrice", "customer_id": "CustomerID", "country": "Country",
        },
        date_format="%Y-%m-%d %H:%M:%S",
    ),
    "reviews_en": Layout(
        kind="reviews",
        name="reviews_en",
        columns={
            "product_sku": "Clothing ID", "title": "Title", "text": "Review Text", "rating": "Rating",
            "category": "Department Name", "class_name": "Class Name", "division": "Division Name",
        },
        language="en",
        sku_prefix="CLOTH-",
    ),
}

_LAYOUT_KEYS = {"delimiter", "encoding", "date_format", "dayfirst", "currency", "language", "cancellation_prefix", "sku_prefix"}


def layout_for(*, kind: str, preset: str | None = None, mapping: dict | None = None) -> Layout:
    """The layout of a preset, or one built from a mapping ({"columns": {...}, "delimiter": ...})."""
    if kind not in FIELDS:
        raise ValueError(f"Unknown import kind {kind!r}; expected one of {sorted(FIELDS)}.")
    if preset:
        if preset not in PRESETS:
            raise ValueError(f"Unknown preset {preset!r}; expected one of {sorted(PRESETS)}.")
        layout = PRESETS[preset]
        if layout.kind != kind:
            raise ValueError(f"Preset {preset!r} is for {layout.kind}, not {kind}.")
        return replace(layout, **{k: v for k, v in (mapping or {}).items() if k in _LAYOUT_KEYS})
    mapping = dict(mapping or {})
    columns = mapping.pop("columns", None)
    if columns is None:  # a flat mapping: every non-option key names a column
        columns = {k: v for k, v in mapping.items() if k not in _LAYOUT_KEYS}
    unknown = set(columns) - set(FIELDS[kind][0]) - set(FIELDS[kind][1])
    if unknown:
        raise ValueError(f"Mapping names unknown {kind} fields {sorted(unknown)}; known: {sorted(FIELDS[kind][0] + FIELDS[kind][1])}.")
    options = {k: v for k, v in mapping.items() if k in _LAYOUT_KEYS}
    return Layout(kind=kind, columns=dict(columns), **options)


def mapping_load(path: str | Path) -> dict:
    """A mapping file: JSON or YAML (by extension; YAML is a superset, so it reads both)."""
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a mapping file holds an object (field: column), not {type(data).__name__}.")
    return data


@dataclass(frozen=True)
class RawTable:
    frame: pd.DataFrame  # canonical columns as strings, plus `_line`
    sha256: str
    source: str


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_table(data: bytes, *, source: str, layout: Layout) -> RawTable:
    """Read raw bytes (gzip or plain; CSV or xlsx) into canonical string columns."""
    sha = file_sha256(data)
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, source)
    if data[:4] == XLSX_MAGIC:
        frame = _read_excel(data, source)
    else:
        frame = _read_csv(_decode(data, source, layout.encoding), source, layout.delimiter)
    frame = _select_columns(frame, source, layout)
    return RawTable(frame=frame, sha256=sha, source=source)


def _gunzip(data: bytes, source: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ImportFileError(source, None, f"truncated or corrupt gzip file ({exc}); upload the complete file") from exc


def _decode(data: bytes, source: str, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            source, line, f"not valid {encoding} text (byte 0x{data[exc.start]:02x}); set the file's encoding in the mapping"
        ) from exc
    return text.removeprefix("\ufeff")


def _read_csv(text: str, source: str, delimiter: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_filter=False, engine="c")
    except pd.errors.EmptyDataError as exc:
        raise ImportFileError(source, 1, "the file is empty (no header line)") from exc
    except pd.errors.ParserError as exc:
        raise ImportFileError(source, _parser_error_line(str(exc)), f"malformed CSV ({exc})") from exc


def _parser_error_line(message: str) -> int | None:
    marker = " in line "
    if marker in message:
        digits = message.split(marker, 1)[1].split(",", 1)[0].split(" ", 1)[0]
        if digits.isdigit():
            return int(digits)
    return None


def _read_excel(data: bytes, source: str) -> pd.DataFrame:
    try:
        frame = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ImportFileError(source, None, f"unreadable Excel workbook ({exc})") from exc
    return frame.fillna("").astype(str)


def _select_columns(frame: pd.DataFrame, source: str, layout: Layout) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    required, _optional = FIELDS[layout.kind]
    missing_required = [f for f in required if f not in layout.columns or layout.columns[f] not in frame.columns]
    if missing_required:
        header = ",".join(frame.columns)
        if len(frame.columns) == 1 and any(sep in header for sep in (";", "\t", "|")) and layout.delimiter not in header:
            guess = next(sep for sep in (";", "\t", "|") if sep in header)
            raise ImportFileError(source, 1, f"wrong delimiter: expected {layout.delimiter!r} but the header looks {guess!r}-separated; set delimiter in the mapping")
        wanted = [f"{f} (column {layout.columns.get(f, '?')!r})" for f in missing_required]
        raise ImportFileError(source, 1, f"missing required columns: {', '.join(wanted)}; the header has {list(frame.columns)}")
    chosen = {f: c for f, c in layout.columns.items() if c in frame.columns}
    out = frame[list(chosen.values())].copy()
    out.columns = list(chosen)
    for column in out.columns:  # free text stays as written: the counted text rules normalise it
        out[column] = out[column].astype(str) if column in FREE_TEXT else out[column].astype(str).str.strip()
    out["_line"] = range(2, len(out) + 2)
    if layout.kind != "orders":  # order lines are keyed on their canonical fields (customers.imports.orders)
        out["_row"] = row_hashes(frame)
    return out.reset_index(drop=True)


def row_hashes(frame: pd.DataFrame) -> list[str]:
    """A 128-bit BLAKE2b hash of every column of each row as written: its identity in the file."""
    columns = [frame[c].astype(str).tolist() for c in frame.columns]
    return [hashlib.blake2b("\x1f".join(row).encode(), digest_size=16).hexdigest() for row in zip(*columns, strict=True)]
