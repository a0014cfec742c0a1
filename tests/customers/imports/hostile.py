"""Hostile files: small fixtures built in code, each with the message the platform must give.

Each case is an order file in the Online Retail layout (preset online_retail) unless it names a
mapping; `expect` is the part of the message every route (command, admin upload, API) shows;
`expect_by_route` overrides it where a route words a refusal itself (a mapping that is not an
object never reaches the service from the admin form or the API).
"""
from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field

from tests.customers.imports.samples import HEADER, LINES

GOOD = LINES[0]  # 536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom


@dataclass(frozen=True)
class Hostile:
    name: str
    what: str
    data: bytes
    expect: str
    filename: str = "hostile.csv"
    mapping: object = None  # None: preset online_retail
    expect_by_route: dict[str, str] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


def _file(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def _line(**changes: str) -> str:
    fields = dict(zip(HEADER.split(","), GOOD.split(","), strict=True))
    fields.update(changes)
    return ",".join(fields.values())


def gzip_bomb(inflated: int) -> bytes:
    """A gzip of `inflated` zero bytes, written in steps so building it never holds them all."""
    out = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * (1 << 20)
    parts = [out.compress(HEADER.encode() + b"\n")]
    parts += [out.compress(block) for _ in range(inflated // len(block))]
    return b"".join(parts) + out.flush()


CASES = [
    Hostile("header_only", "the header line and nothing else", _file(), "hostile.csv, line 2: the file has a header but no data lines"),
    Hostile("price_inf", "UnitPrice `inf`", _file(_line(UnitPrice="inf")), "hostile.csv, line 2: unit_price 'inf' is not a finite number"),
    Hostile("price_1e20", "UnitPrice `1e20`", _file(_line(UnitPrice="1e20")),
            "hostile.csv, line 2: unit_price '1e20' is not a price the database can hold"),
    Hostile("quantity_past_int32", "Quantity 3,000,000,000", _file(GOOD, _line(Quantity="3000000000")),
            "hostile.csv, line 3: quantity '3000000000' is not a quantity the database can hold"),
    Hostile("nul_byte", "a NUL byte in a description", _file(GOOD, _line(Description="MUG\0CUP")),
            "hostile.csv, line 3: contains a NUL byte"),
    Hostile("sku_too_long", "a 65-character StockCode", _file(_line(StockCode="X" * 65)),
            "hostile.csv, line 2: sku 'XXXXXXXX"),
    Hostile("mapping_not_object", "`?mapping=[1,2]` (a JSON list, not an object)", _file(GOOD), "mapping",
            mapping=[1, 2], expect_by_route={"api": "?mapping is a JSON object", "admin": "The mapping is a JSON object",
                                             "command": "a mapping file holds an object"}),
    Hostile("duplicate_header", "two columns named Country", (HEADER + ",Country\n" + GOOD + ",France\n").encode(),
            "hostile.csv, line 1: the header names column 'Country' twice"),
    Hostile("far_future", "an order dated 2999-12-31", _file(GOOD, _line(InvoiceDate="2999-12-31 10:00:00")),
            "hostile.csv, line 3: placed_at '2999-12-31 10:00:00' is not a date up to"),
    Hostile("json_object_value", "a JSON object as CustomerID", _file('536365,85123A,MUG,6,2010-12-01 08:26:00,2.55,"{""id"": 1}",United Kingdom'),
            "hostile.csv, line 2: customer_id '{\"id\": 1}' is not a plain value (it is a JSON object or list)"),
    Hostile("gzip_bomb", "a 64 KB gzip inflating to 64 MiB (limit set to 8 MiB)", gzip_bomb(64 << 20),
            "hostile.csv.gz: the gzip file inflates past 8,388,608 bytes", filename="hostile.csv.gz",
            settings={"IMPORT_MAX_DECOMPRESSED_BYTES": 8 << 20}),
    Hostile("huge_header", "a 1 MB header line without the required columns", (("x" * (1 << 20)) + "\n1\n").encode(),
            "hostile.csv, line 1: missing required columns"),
    Hostile("truncated_gzip", "a gzip file cut in half", gzip.compress(_file(*LINES * 40))[:600],
            "hostile.csv.gz: truncated or corrupt gzip file", filename="hostile.csv.gz"),
]
