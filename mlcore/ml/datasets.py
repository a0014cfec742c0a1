"""Django-free loaders of the public data sets used for offline evaluation and benchmarks.

`online_retail_lines` reads the UCI Online Retail file and applies a minimal documented clean,
returning a frame with the columns of `customers.selectors.order_lines_frame` (customer_id,
order_id, placed_at, country, product_id, sku, category, product_kind, quantity, unit_price,
amount) so the recommender runs the same way on the file as inside the platform. The clean:
drop lines without CustomerID, cancellations (InvoiceNo starting "C") and Quantity <= 0,
UnitPrice <= 0, non-product stock codes (postage, fees, manual lines, samples) and exact
duplicate lines. `online_retail_products` gives the matching products frame (one title per SKU:
its most frequent description).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

NON_PRODUCT_CODES = frozenset({
    "POST", "DOT", "M", "D", "C2", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "S", "B",
})
_RAW_COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]


def _read_raw(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "float64"}, encoding="latin-1")
    missing = [c for c in _RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} are missing (expected {_RAW_COLUMNS}).")
    return raw


def clean_online_retail(raw: pd.DataFrame) -> pd.DataFrame:
    """The minimal clean described in the module docstring, on the raw columns."""
    frame = raw.dropna(subset=["CustomerID"]).drop_duplicates()
    frame = frame[~frame["InvoiceNo"].astype(str).str.startswith("C")]
    frame = frame[(frame["Quantity"] > 0) & (frame["UnitPrice"] > 0)]
    codes = frame["StockCode"].astype(str).str.strip()
    frame = frame[~codes.str.upper().isin({c.upper() for c in NON_PRODUCT_CODES}) & ~codes.str.startswith("gift_")]
    return frame.copy()


def category_from_title(titles: pd.Series) -> pd.Series:
    """A coarse category for a catalogue without one: the title's last word (BAG, MUG, CANDLE...).

    Online Retail ships no category; the last word of its upper-case descriptions names the kind
    of product often enough to drive the diversity rule.
    """
    words = titles.fillna("").astype(str).str.upper().str.replace(r"[^A-Z ]", " ", regex=True).str.split()
    return words.map(lambda w: w[-1] if w else "OTHER").str.rstrip("S")


def online_retail_lines(path: str | Path) -> pd.DataFrame:
    """Cleaned sale lines with order_lines_frame's columns; product_id is a dense int per SKU."""
    frame = clean_online_retail(_read_raw(Path(path)))
    sku = frame["StockCode"].astype(str).str.strip().str.upper()
    codes, uniques = pd.factorize(sku, sort=True)
    titles = online_retail_titles(frame.assign(sku=sku))
    out = pd.DataFrame({
        "order_id": frame["InvoiceNo"].astype(str).to_numpy(),
        "customer_id": frame["CustomerID"].astype("int64").to_numpy(),
        "placed_at": pd.to_datetime(frame["InvoiceDate"], format="mixed", dayfirst=False).dt.tz_localize("UTC").to_numpy(),
        "status": "placed",
        "country": frame["Country"].astype(str).to_numpy(),
        "product_id": codes.astype("int64"),
        "sku": sku.to_numpy(),
        "product_kind": "product",
        "quantity": frame["Quantity"].astype("int64").to_numpy(),
        "unit_price": frame["UnitPrice"].astype("float64").to_numpy(),
    })
    out["category"] = out["sku"].map(category_from_title(titles))
    out["amount"] = out["quantity"] * out["unit_price"]
    out["placed_at"] = pd.to_datetime(out["placed_at"], utc=True)
    return out.reset_index(drop=True)


def online_retail_titles(frame: pd.DataFrame) -> pd.Series:
    """The most frequent description of each SKU (650 codes carry more than one)."""
    described = frame.dropna(subset=["Description"])
    counts = described.groupby(["sku", "Description"]).size().rename("n").reset_index()
    best = counts.sort_values(["sku", "n"], ascending=[True, False]).drop_duplicates("sku")
    return best.set_index("sku")["Description"].str.strip()


def products_from_lines(lines: pd.DataFrame, titles: pd.Series | None = None) -> pd.DataFrame:
    """A products frame (products_frame's columns) for the SKUs of a lines frame."""
    first = lines.drop_duplicates("product_id").sort_values("product_id")
    price = lines.groupby("product_id")["unit_price"].median()
    title = first["sku"].map(titles) if titles is not None else first["sku"]
    return pd.DataFrame({
        "product_id": first["product_id"].to_numpy(),
        "sku": first["sku"].to_numpy(),
        "title": title.fillna(first["sku"]).to_numpy(),
        "description": "",
        "category": first["category"].to_numpy(),
        "price": price.reindex(first["product_id"]).to_numpy(),
        "kind": "product",
        "active": True,
    })


def online_retail(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lines, products) of the cleaned Online Retail file."""
    raw = clean_online_retail(_read_raw(Path(path)))
    lines = online_retail_lines(path)
    titles = online_retail_titles(raw.assign(sku=raw["StockCode"].astype(str).str.strip().str.upper()))
    return lines, products_from_lines(lines, titles)
