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

`online_retail(path)` gives the recommender's view: (sale lines only, products frame with the
columns of `customers.selectors.products_frame()`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mlcore.ml.sales import sales as sale_lines

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
    best["category"] = category_from_title(best["description"])
    return best[["sku", "product_id", "description", "category"]]


def category_from_title(titles: pd.Series) -> pd.Series:
    """A coarse category for a catalogue without one: the title's last word (BAG, MUG, CANDLE...).

    Online Retail ships no category; the last word of its upper-case descriptions names the kind
    of product often enough to drive segment text and the recommender's diversity rule.
    """
    words = titles.fillna("").astype(str).str.upper().str.replace(r"[^A-Z ]", " ", regex=True).str.split()
    return words.map(lambda w: w[-1] if w else "OTHER").str.rstrip("S")


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


def products_from_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """A products frame (products_frame's columns) for the SKUs of a lines frame."""
    first = lines.drop_duplicates("product_id").sort_values("product_id")
    price = lines.groupby("product_id")["unit_price"].median()
    return pd.DataFrame({
        "product_id": first["product_id"].to_numpy(),
        "sku": first["sku"].to_numpy(),
        "title": first["description"].where(first["description"].ne(""), first["sku"]).to_numpy(),
        "description": "",
        "category": first["category"].to_numpy(),
        "price": price.reindex(first["product_id"]).to_numpy(),
        "kind": "product",
        "active": True,
    })


def online_retail(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sale lines, products) of the cleaned Online Retail file: the recommender's inputs."""
    lines = load_online_retail(path)
    sales = sale_lines(lines).reset_index(drop=True)
    return sales, products_from_lines(sales)


def customer_countries(lines: pd.DataFrame) -> pd.Series:
    """Each customer's most frequent country (the data has no customer table)."""
    counts = lines.groupby(["customer_id", "country"]).size().rename("n").reset_index()
    top = counts.sort_values(["customer_id", "n"], ascending=[True, False]).drop_duplicates("customer_id")
    return top.set_index("customer_id")["country"]
