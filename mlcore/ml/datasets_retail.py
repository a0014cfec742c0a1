"""Django-free loader of the UCI Online Retail file as an order-lines frame (for evaluations).

The frame has the columns of `customers.selectors.order_lines_frame()` that the feature
builder and the models read. The clean is minimal and documented here:
- lines without CustomerID are dropped (guests: no customer to predict for);
- exact duplicate lines are dropped;
- lines with UnitPrice <= 0 are dropped;
- non-product stock codes (postage, fees, manual adjustments, bank charges...) are dropped;
- cancellations (InvoiceNo starting with "C", negative Quantity) are kept as return lines with
  a negative quantity, so net spend falls and the return rate counts them.
Invoice dates are the shop's local time (Europe/London) and are converted to UTC.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

NON_PRODUCT_CODES = frozenset({"POST", "DOT", "M", "D", "C2", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "S", "B", "m"})
REQUIRED_COLUMNS = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]


def read_raw(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "float64"}, encoding="latin-1")
    missing = [column for column in REQUIRED_COLUMNS if column not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    return raw


def clean(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.dropna(subset=["CustomerID"]).drop_duplicates()
    out = out[(out["UnitPrice"] > 0) & (out["Quantity"] != 0)]
    code = out["StockCode"].str.strip().str.upper()
    return out[~code.isin({c.upper() for c in NON_PRODUCT_CODES})]


def to_order_lines(rows: pd.DataFrame) -> pd.DataFrame:
    placed = pd.to_datetime(rows["InvoiceDate"], format="mixed", dayfirst=False)
    placed = placed.dt.tz_localize("Europe/London", ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    products = pd.factorize(rows["StockCode"].str.strip().str.upper())[0] + 1
    cancelled = rows["InvoiceNo"].str.startswith("C").to_numpy()
    lines = pd.DataFrame({
        "line_id": np.arange(1, len(rows) + 1),
        "order_id": pd.factorize(rows["InvoiceNo"])[0] + 1,
        "customer_id": rows["CustomerID"].astype("int64").to_numpy(),
        "placed_at": placed.to_numpy(),
        "status": np.where(cancelled, "cancelled", "placed"),
        "country": rows["Country"].to_numpy(),
        "product_id": products,
        "sku": rows["StockCode"].to_numpy(),
        "category": "",
        "product_kind": "product",
        "quantity": rows["Quantity"].astype("int64").to_numpy(),
        "unit_price": rows["UnitPrice"].astype("float64").to_numpy(),
    })
    lines["amount"] = lines["quantity"] * lines["unit_price"]
    return lines.dropna(subset=["placed_at"]).reset_index(drop=True)


def load_online_retail(path: Path) -> pd.DataFrame:
    """The cleaned Online Retail lines (see the module docstring), sorted by time."""
    lines = to_order_lines(clean(read_raw(path)))
    return lines.sort_values(["placed_at", "line_id"], kind="stable").reset_index(drop=True)


def customer_countries(lines: pd.DataFrame) -> pd.Series:
    """Each customer's most frequent country (the data has no customer table)."""
    counts = lines.groupby(["customer_id", "country"]).size().rename("n").reset_index()
    top = counts.sort_values(["customer_id", "n"], ascending=[True, False]).drop_duplicates("customer_id")
    return top.set_index("customer_id")["country"]
