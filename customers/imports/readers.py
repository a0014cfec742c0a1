"""Reading import files: gzip or plain, CSV or Excel, a named preset or a column mapping.

A file is read into a frame of *canonical* columns (strings, nothing parsed yet) plus `_line`,
the file line number of each row (the header is line 1), so every later error and sample can
name the line. Anything that makes the file unreadable raises ImportFileError naming the file
and the first bad line.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

GZIP_MAGIC = b"\x1f\x8b"
FREE_TEXT = frozenset({"description", "title", "text", "name"})
XLSX_MAGIC = b"PK\x03\x04"
PROBLEM_CHARS = 2000  # an error quotes values; a 50 MB header must not become a 50 MB message
VALUE_CHARS = 120
# Column widths of the key fields (customers.models): a longer value is refused, never cut.
KEY_LENGTHS = {"order_id": 64, "sku": 64, "customer_id": 64, "external_id": 64, "product_sku": 64, "currency": 3,
               "country": 64, "language": 8}
# Canonical fields of which a file must have one (the other is derived or optional).
ALTERNATIVES = {"orders": ("unit_price", "line_total"), "reviews": ("rating", "label")}


class ImportFileError(ValueError):
    """Bad input: names the file, the first bad line (when known) and what is wrong."""

    def __init__(self, source: str, line: int | None, problem: str):
        problem = problem if len(problem) <= PROBLEM_CHARS else problem[:PROBLEM_CHARS] + " ... (cut)"
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {problem}")


def quoted(value) -> str:
    """A value as an error quotes it: repr (of the Python value, for numpy scalars), cut to VALUE_CHARS."""
    text = repr(value.item() if hasattr(value, "item") else value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + f"... ({len(str(value)):,} characters)"


# Canonical fields of each kind of import: (required, optional).
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orders": (
        ("order_id", "sku", "quantity", "placed_at"),
        ("unit_price", "line_total", "description", "customer_id", "country", "currency", "category", "kind"),
    ),
    "customers": (("external_id",), ("email", "name", "country", "first_seen")),
    "products": (("sku",), ("title", "description", "category", "price", "kind")),
    "reviews": (
        (),
        ("rating", "label", "external_id", "product_sku", "customer_id", "title", "text", "language", "created_at",
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
    date_format: str | None = None  # None: ISO first, then pandas' mixed parser; "epoch" / "epoch_ms"
    dayfirst: bool | None = None  # None: refuse a file whose day/month order cannot be told
    currency: str | None = None  # None: settings.SHOP_CURRENCY
    language: str = ""
    cancellation_prefix: str = "C"
    sku_prefix: str = ""  # reviews: product reference -> SKU prefix
    attributes: dict[str, str] | str = field(default_factory=dict)  # attribute name -> column, or "*": every unmapped column
    product_kinds: dict | None = None  # {"fee": {"skus": [], "sku_patterns": [], "categories": []}}; None: settings
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
        # Online Retail's stock codes that are not products (postage, manual adjustments, bank and
        # marketplace charges, commission, samples, discounts, bad debt, cushion pads at 0.001, vouchers).
        product_kinds={"fee": {
            "skus": ["POST", "DOT", "M", "D", "C2", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "CARRIAGE", "ADJUST"],
            "sku_patterns": ["GIFT_.*"],
        }},
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

_LAYOUT_KEYS = {"delimiter", "encoding", "date_format", "dayfirst", "currency", "language", "cancellation_prefix", "sku_prefix",
                "attributes", "product_kinds"}
_OPTION_TYPES = {"delimiter": str, "encoding": str, "date_format": str, "dayfirst": bool, "currency": str, "language": str,
                 "cancellation_prefix": str, "sku_prefix": str, "attributes": (dict, list, str), "product_kinds": dict}
_KIND_RULE_KEYS = {"skus", "sku_patterns", "categories"}


def _check_mapping(kind: str, mapping) -> None:
    """A mapping from outside (a file, ?mapping=, the admin form) has the documented shape, or a ValueError says why."""
    if not isinstance(mapping, dict):
        raise ValueError(f"mapping: expected a JSON object such as {{\"columns\": {{\"field\": \"column\"}}}}, not {type(mapping).__name__}.")
    if "columns" in mapping and set(mapping) - _LAYOUT_KEYS - {"columns"}:
        raise ValueError(f"mapping: unknown keys {sorted(set(mapping) - _LAYOUT_KEYS - {'columns'})}; "
                         f"known: columns, {', '.join(sorted(_LAYOUT_KEYS))} (docs/data.md).")
    columns = mapping.get("columns", {k: v for k, v in mapping.items() if k not in _LAYOUT_KEYS})
    if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise ValueError("mapping: 'columns' maps field names to column names (strings).")
    for key, wanted in _OPTION_TYPES.items():
        if key in mapping and not isinstance(mapping[key], wanted):
            raise ValueError(f"mapping: {key!r} has the wrong type ({type(mapping[key]).__name__}); see docs/data.md.")
    attributes = mapping.get("attributes")
    if isinstance(attributes, str) and attributes != "*":
        raise ValueError("mapping: 'attributes' is {name: column}, a list of columns, or \"*\" (every unmapped column).")
    if kind not in ("orders", "products") and attributes:
        raise ValueError(f"mapping: 'attributes' applies to orders and products files, not {kind}.")
    for product_kind, rule in (mapping.get("product_kinds") or {}).items():
        if product_kind not in ("fee", "product") or not isinstance(rule, dict) or set(rule) - _KIND_RULE_KEYS \
                or not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in rule.values()):
            raise ValueError(f"mapping: 'product_kinds' is {{\"fee\": {{\"skus\": [...], \"sku_patterns\": [...], \"categories\": [...]}}}}; got {quoted(product_kind)}.")


def _attributes(value) -> dict[str, str] | str:
    if isinstance(value, list):
        return {str(c): str(c) for c in value}
    return value or {}


def layout_for(*, kind: str, preset: str | None = None, mapping: dict | None = None) -> Layout:
    """The layout of a preset, or one built from a mapping ({"columns": {...}, "delimiter": ...})."""
    if kind not in FIELDS:
        raise ValueError(f"Unknown import kind {kind!r}; expected one of {sorted(FIELDS)}.")
    if mapping is not None:
        _check_mapping(kind, mapping)
    if preset:
        if preset not in PRESETS:
            raise ValueError(f"Unknown preset {preset!r}; expected one of {sorted(PRESETS)}.")
        layout = PRESETS[preset]
        if layout.kind != kind:
            raise ValueError(f"Preset {preset!r} is for {layout.kind}, not {kind}.")
        options = {k: v for k, v in (mapping or {}).items() if k in _LAYOUT_KEYS}
        if "attributes" in options:
            options["attributes"] = _attributes(options["attributes"])
        return replace(layout, **options)
    mapping = dict(mapping or {})
    columns = mapping.pop("columns", None)
    if columns is None:  # a flat mapping: every non-option key names a column
        columns = {k: v for k, v in mapping.items() if k not in _LAYOUT_KEYS}
    unknown = set(columns) - set(FIELDS[kind][0]) - set(FIELDS[kind][1])
    if unknown:
        raise ValueError(f"Mapping names unknown {kind} fields {sorted(unknown)}; known: {sorted(FIELDS[kind][0] + FIELDS[kind][1])}.")
    options = {k: v for k, v in mapping.items() if k in _LAYOUT_KEYS}
    if "attributes" in options:
        options["attributes"] = _attributes(options["attributes"])
    return Layout(kind=kind, columns=dict(columns), **options)


def mapping_load(path: str | Path) -> dict:
    """A mapping file: JSON or YAML (by extension; YAML is a superset, so it reads both)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from exc
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


def read_table(data: bytes, *, source: str, layout: Layout, max_bytes: int | None = None) -> RawTable:
    """Read raw bytes (gzip or plain; CSV or xlsx) into canonical string columns.

    max_bytes: the most a gzip file may inflate to (settings.IMPORT_MAX_DECOMPRESSED_BYTES)."""
    sha = file_sha256(data)
    if data[:2] == GZIP_MAGIC:
        data = gunzip_limited(data, source, max_bytes or 1 << 30)
    if data[:4] == XLSX_MAGIC:
        frame = _read_excel(data, source)
    else:
        text = _decode(data, source, layout.encoding)
        _refuse_nul(text, source)
        _refuse_duplicate_header(text, source, layout.delimiter)
        if codecs.lookup(layout.encoding).name == "utf-8":  # checked above: parse the bytes, not a UCS-4 StringIO (4x the file)
            del text
            frame = _read_csv(io.BytesIO(data), source, layout.delimiter, encoding="utf-8-sig")
        else:
            frame = _read_csv(io.StringIO(text), source, layout.delimiter)
    frame = _select_columns(frame, source, layout)
    return RawTable(frame=frame, sha256=sha, source=source)


def gunzip_limited(data: bytes, source: str, max_bytes: int) -> bytes:
    """Inflate in steps, stopping at max_bytes: a small bomb is refused without inflating it whole."""
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    parts, size, pending = [], 0, data
    try:
        while pending or not inflater.eof:
            part = inflater.decompress(pending, max(1, min(1 << 24, max_bytes + 1 - size)))
            pending = inflater.unconsumed_tail
            size += len(part)
            parts.append(part)
            if size > max_bytes:
                raise ImportFileError(source, None, f"the gzip file inflates past {max_bytes:,} bytes "
                                      "(IMPORT_MAX_DECOMPRESSED_BYTES); split it or raise the setting")
            if inflater.eof and inflater.unused_data[:2] == GZIP_MAGIC:  # a multi-member gzip
                pending, inflater = inflater.unused_data, zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
            elif not part and not pending:
                break
    except zlib.error as exc:
        raise ImportFileError(source, None, f"truncated or corrupt gzip file ({exc}); upload the complete file") from exc
    if not inflater.eof:
        raise ImportFileError(source, None, "truncated or corrupt gzip file (it ends before the end of the data); upload the complete file")
    return b"".join(parts)


def _refuse_nul(text: str, source: str) -> None:
    at = text.find("\x00")
    if at >= 0:
        raise ImportFileError(source, text.count("\n", 0, at) + 1, "contains a NUL byte (a binary file, or UTF-16 without "
                              "its encoding?); save it as UTF-8 CSV or set the encoding in the mapping")


def _refuse_duplicate_header(text: str, source: str, delimiter: str) -> None:
    """Two columns of one name: pandas would rename the second silently, so the mapping could pick either."""
    first = text.split("\n", 1)[0]
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return
    _refuse_repeated([h.strip() for h in header], source)


def _refuse_repeated(header: list[str], source: str) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise ImportFileError(source, 1, f"the header names column {quoted(name)} twice; rename one of them")
        seen.add(name)


def _decode(data: bytes, source: str, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            source, line, f"not valid {encoding} text (byte 0x{data[exc.start]:02x}); set the file's encoding in the mapping"
        ) from exc
    return text.removeprefix("\ufeff")


def _read_csv(handle: io.IOBase, source: str, delimiter: str, encoding: str | None = None) -> pd.DataFrame:
    try:
        return pd.read_csv(handle, sep=delimiter, dtype=str, keep_default_na=False, na_filter=False, engine="c", encoding=encoding)
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
        sheet = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False, engine="openpyxl", header=None)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ImportFileError(source, None, f"unreadable Excel workbook ({exc})") from exc
    if sheet.empty:
        raise ImportFileError(source, 1, "the workbook's first sheet is empty (no header line)")
    sheet = sheet.fillna("").astype(str)
    header = [h.strip() for h in sheet.iloc[0]]
    _refuse_repeated(header, source)
    frame = sheet.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return frame


def _select_columns(frame: pd.DataFrame, source: str, layout: Layout) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    required, _optional = FIELDS[layout.kind]
    present = {f for f, c in layout.columns.items() if c in frame.columns}
    missing_required = [f for f in required if f not in present]
    either = ALTERNATIVES.get(layout.kind)
    if either and not present & set(either):
        missing_required.append(" or ".join(f"{f} (column {layout.columns[f]!r})" if f in layout.columns else f for f in either))
    if missing_required:
        header = ",".join(frame.columns)
        if len(frame.columns) == 1 and any(sep in header for sep in (";", "\t", "|")) and layout.delimiter not in header:
            guess = next(sep for sep in (";", "\t", "|") if sep in header)
            raise ImportFileError(source, 1, f"wrong delimiter: expected {layout.delimiter!r} but the header looks {guess!r}-separated; set delimiter in the mapping")
        wanted = [f"{f} (column {layout.columns.get(f, '?')!r})" if f in FIELDS[layout.kind][0] else f for f in missing_required]
        raise ImportFileError(source, 1, f"missing required columns: {', '.join(wanted)}; the header has {quoted(list(frame.columns))}")
    if frame.empty:
        raise ImportFileError(source, 2, "the file has a header but no data lines")
    chosen = {f: c for f, c in layout.columns.items() if c in frame.columns}
    out = frame[list(chosen.values())].copy()
    out.columns = list(chosen)
    for column in out.columns:  # free text stays as written: the counted text rules normalise it
        out[column] = out[column].astype(str) if column in FREE_TEXT else stripped(out[column].astype(str))
    out["_line"] = range(2, len(out) + 2)
    _refuse_long_keys(out, source)
    for name, column in _attribute_columns(frame, source, layout, chosen).items():
        out[f"attr:{name}"] = stripped(frame[column].astype(str)).to_numpy()
    if layout.kind != "orders":  # order lines are keyed on their canonical fields (customers.imports.orders)
        out["_row"] = row_hashes(frame)
    return out.reset_index(drop=True)


def stripped(series: pd.Series) -> pd.Series:
    """str.strip once per distinct value: ids, codes and countries repeat a lot, and pandas'
    string methods call Python once per row (1.9 s of the Online Retail read, now ~0.3 s)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    values = np.array([u.strip() for u in uniques], dtype=object)
    return pd.Series(values[codes], index=series.index, dtype=series.dtype)


def _attribute_columns(frame: pd.DataFrame, source: str, layout: Layout, chosen: dict[str, str]) -> dict[str, str]:
    if layout.attributes == "*":
        mapped = set(chosen.values())
        return {c: c for c in frame.columns if c not in mapped}
    missing = [c for c in layout.attributes.values() if c not in frame.columns]
    if missing:
        raise ImportFileError(source, 1, f"attribute columns {quoted(missing)} are not in the header")
    return dict(layout.attributes)


def _refuse_long_keys(frame: pd.DataFrame, source: str) -> None:
    """A key longer than its column is refused (PostgreSQL would refuse the whole load; cutting would merge keys)."""
    for column, width in KEY_LENGTHS.items():
        if column in frame.columns and max(map(len, pd.unique(frame[column])), default=0) > width:
            too_long = frame[column].str.len() > width
            if too_long.any():
                first = int(too_long.to_numpy().nonzero()[0][0])
                value = frame[column].iloc[first]
                raise ImportFileError(source, int(frame["_line"].iloc[first]),
                                      f"{column} {quoted(value)} is {len(value):,} characters, longer than its column ({width})")


def row_hashes(frame: pd.DataFrame) -> list[str]:
    """A 128-bit BLAKE2b hash of every column of each row as written: its identity in the file."""
    columns = [frame[c].astype(str).tolist() for c in frame.columns]
    return [hashlib.blake2b("\x1f".join(row).encode(), digest_size=16).hexdigest() for row in zip(*columns, strict=True)]
