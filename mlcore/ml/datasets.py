"""Django-free loaders of the public data sets into the shape of `order_lines_frame()`.

`load_online_retail(path)` reads the UCI Online Retail file and applies a minimal, documented
clean, so features, segments and benchmarks can run on real data without the database:

- exact duplicate lines are dropped (5,268 in the published file);
- lines without CustomerID are dropped (guests: no customer to describe);
- lines with UnitPrice <= 0 are dropped (free samples, adjustments);
- non-product stock codes (postage, fees, manual lines, bank charges, gift vouchers "gift_...",
  "DCGS..." lots) are dropped, case-insensitively;
- cancellations (InvoiceNo "C...") stay as negative-quantity lines with status "returned",
  so net spend is after returns; other non-positive quantities (stock write-offs) are dropped.

Columns: line_id, order_id, customer_id, placed_at (UTC), status, country, product_id, sku,
description, category, product_kind, quantity, unit_price, amount, returned_line_id.
The data set has no categories; `category` is the last word of the product's description
("HOLDER", "LANTERN", "BAG"), a crude product type.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

NON_PRODUCT_CODES = frozenset({
    "POST", "DOT", "M", "D", "C2", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "S", "B",
})
REQUIRED_COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]


def read_online_retail(path: Path | str) -> pd.DataFrame:
    """The raw file as strings/numbers, with a clear error when a column is missing."""
    raw = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "Description": str, "Country": str})
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}")
    return raw


def is_product_code(codes: pd.Series) -> pd.Series:
    upper = codes.str.strip().str.upper()
    return ~upper.isin({c.upper() for c in NON_PRODUCT_CODES}) & ~upper.str.startswith(("GIFT_", "DCGS"))


def clean_online_retail(raw: pd.DataFrame) -> pd.DataFrame:
    lines = raw.drop_duplicates()
    lines = lines[lines["CustomerID"].notna() & (lines["UnitPrice"] > 0) & is_product_code(lines["StockCode"])]
    cancelled = lines["InvoiceNo"].str.startswith("C")
    keep = (cancelled & (lines["Quantity"] < 0)) | (~cancelled & (lines["Quantity"] > 0))
    return lines[keep].copy()


def product_table(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per stock code: integer id and its most frequent description."""
    sku = lines["StockCode"].str.strip().str.upper()
    desc = lines["Description"].fillna("").str.strip()
    counts = pd.DataFrame({"sku": sku, "description": desc}).value_counts().reset_index(name="n")
    best = counts.sort_values(["sku", "n", "description"], ascending=[True, False, True]).drop_duplicates("sku")
    best = best.reset_index(drop=True)
    best["product_id"] = np.arange(1, len(best) + 1)
    best["category"] = best["description"].str.split().str[-1].fillna("").str.upper()
    return best[["sku", "product_id", "description", "category"]]


def load_online_retail(path: Path | str) -> pd.DataFrame:
    """The cleaned Online Retail lines shaped like `customers.selectors.order_lines_frame()`."""
    lines = clean_online_retail(read_online_retail(path))
    products = product_table(lines)
    lines["sku"] = lines["StockCode"].str.strip().str.upper()
    lines = lines.merge(products, on="sku", how="left")
    local = pd.to_datetime(lines["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    placed = local.dt.tz_localize("Europe/London", ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    out = pd.DataFrame({
        "order_id": pd.factorize(lines["InvoiceNo"])[0] + 1,
        "customer_id": lines["CustomerID"].astype("int64"),
        "placed_at": placed,
        "status": np.where(lines["InvoiceNo"].str.startswith("C"), "returned", "placed"),
        "country": lines["Country"],
        "product_id": lines["product_id"].astype("int64"),
        "sku": lines["sku"],
        "description": lines["description"],
        "category": lines["category"],
        "product_kind": "product",
        "quantity": lines["Quantity"].astype("int64"),
        "unit_price": lines["UnitPrice"].astype("float64"),
    })
    out = out[out["placed_at"].notna()]
    out["amount"] = out["quantity"] * out["unit_price"]
    out["returned_line_id"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out.insert(0, "line_id", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)
