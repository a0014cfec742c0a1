"""Order-line files -> clean frames of customers, products, orders and lines, ready to load.

The order of the steps matters only for what is dropped (a line is dropped by the first rule
that drops it); every rule counts the lines as read, see customers.imports.report.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from customers.imports import cleaning as rules
from customers.imports.readers import Layout, RawTable, row_hashes
from customers.imports.report import ImportReport

KEY_COLUMNS = ["order_id", "sku", "description", "quantity", "placed_at", "unit_price", "customer_id", "country"]


@dataclass(frozen=True)
class OrderFrames:
    customers: pd.DataFrame  # external_id, country, first_seen
    products: pd.DataFrame  # sku, title, other_titles, kind, price
    orders: pd.DataFrame  # external_id, customer_ext, placed_at, status, currency, country, total
    lines: pd.DataFrame  # source_key, order_ext, sku, quantity, unit_price, returned_key


def line_keys(frame: pd.DataFrame) -> pd.Series:
    """The natural key of a line: a 128-bit BLAKE2b hash of its eight source fields as written.

    Exact duplicates are dropped before loading, so within one file the key is unique; the same
    line in another (overlapping) file gets the same key and merges instead of duplicating."""
    return pd.Series(row_hashes(frame[KEY_COLUMNS]), index=frame.index)


def clean_orders(raw: RawTable, layout: Layout, report: ImportReport, *, shop_timezone: str, currency: str) -> OrderFrames:
    frame = raw.frame
    for column in ("description", "customer_id", "country", "currency"):
        if column not in frame.columns:
            frame[column] = ""
    report.rows_read = len(frame)
    frame["customer_id"] = rules.normalise_customer_ids(frame, report)
    frame["source_key"] = line_keys(frame)
    frame = _parse(frame, raw.source, layout, shop_timezone)
    frame = _flag_and_drop(frame, report, layout)
    frame["title"] = rules.normalise_text(frame, "description", report, titles=True)
    frame["country"] = rules.standardise_countries(frame, report)
    frame["currency"] = frame["currency"].where(frame["currency"] != "", layout.currency or currency).str.upper()
    report.rules["timestamps_made_aware"] = len(frame)
    report.notes.append(f"Times read as {shop_timezone} local time, stored in UTC; currency {layout.currency or currency} where the file has none.")
    titles = rules.sku_titles(frame)
    lines = _lines(frame, report)
    frames = OrderFrames(
        customers=_customers(frame), products=_products(frame, titles), orders=_orders(frame), lines=lines,
    )
    _figures(frame, report)
    return frames


def _parse(frame: pd.DataFrame, source: str, layout: Layout, shop_timezone: str) -> pd.DataFrame:
    for column in ("order_id", "sku"):
        rules._fail(frame, frame[column] == "", source, column, "present (it is required)")
    frame["quantity"] = rules.parse_integers(frame, "quantity", source)
    frame["unit_price"] = rules.parse_decimals(frame, "unit_price", source)
    frame["placed_at"] = rules.parse_timestamps(
        frame, "placed_at", source, date_format=layout.date_format, dayfirst=layout.dayfirst, shop_timezone=shop_timezone,
    )
    return frame


def _flag_and_drop(frame: pd.DataFrame, report: ImportReport, layout: Layout) -> pd.DataFrame:
    frame["guest"] = rules.rule_guest_lines(frame, report)
    frame["cancelled"] = rules.rule_cancellations(frame, report, layout.cancellation_prefix)
    zero = rules.rule_non_positive_quantities(frame, report)
    rules.rule_missing_description(frame, report)
    rules.rule_sku_descriptions(frame, report)
    duplicate = rules.rule_exact_duplicates(frame, report, KEY_COLUMNS)
    bad_price = rules.rule_non_positive_prices(frame, report)
    frame["fee"] = rules.rule_fee_codes(frame, report)
    report.drop("exact_duplicates", duplicate.sum())
    report.drop("zero_quantity", (zero & ~duplicate).sum())
    report.drop("non_positive_price", (bad_price & ~duplicate & ~zero).sum())
    return frame[~(duplicate | zero | bad_price)].reset_index(drop=True)


def _lines(frame: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    lines = frame[["source_key", "order_id", "sku", "quantity", "unit_price", "customer_id", "placed_at", "_line"]].copy()
    lines["returned_key"] = rules.match_returns(lines, report)
    rules.rule_extreme_quantities(lines, report)
    return lines.rename(columns={"order_id": "order_ext"})


def _orders(frame: pd.DataFrame) -> pd.DataFrame:
    amount = frame["quantity"] * frame["unit_price"]
    grouped = frame.assign(amount=amount, negative=frame["quantity"] < 0).groupby("order_id", sort=False)
    orders = grouped.agg(
        customer_ext=("customer_id", "first"), placed_at=("placed_at", "min"), country=("country", "first"),
        currency=("currency", "first"), total=("amount", "sum"), cancelled=("cancelled", "any"), all_negative=("negative", "all"),
    ).reset_index().rename(columns={"order_id": "external_id"})
    orders["status"] = "placed"
    orders.loc[orders["all_negative"], "status"] = "returned"
    orders.loc[orders["cancelled"], "status"] = "cancelled"
    orders["total"] = orders["total"].round(2)
    return orders.drop(columns=["cancelled", "all_negative"])


def _customers(frame: pd.DataFrame) -> pd.DataFrame:
    known = frame[frame["customer_id"] != ""]
    first_seen = known.groupby("customer_id")["placed_at"].min()
    countries = known[known["country"] != ""].groupby(["customer_id", "country"]).size().reset_index(name="n")
    countries = countries.sort_values(["customer_id", "n", "country"], ascending=[True, False, True]).drop_duplicates("customer_id")
    out = first_seen.rename("first_seen").reset_index().rename(columns={"customer_id": "external_id"})
    country_of = dict(zip(countries["customer_id"], countries["country"], strict=True))
    out["country"] = [country_of.get(c, "") for c in out["external_id"]]
    return out


def _products(frame: pd.DataFrame, titles: pd.DataFrame) -> pd.DataFrame:
    products = titles.copy()
    fee_skus = set(frame.loc[frame["fee"], "sku"])
    products["kind"] = products["sku"].map(lambda s: "fee" if s in fee_skus else "product")
    sales = frame[(frame["quantity"] > 0) & ~frame["fee"]].sort_values("placed_at")
    latest_price = sales.groupby("sku")["unit_price"].last().round(2)
    products["price"] = products["sku"].map(latest_price)
    products["title"] = products["title"].str.slice(0, 300)
    return products


def _figures(frame: pd.DataFrame, report: ImportReport) -> None:
    """The cleaned tables' headline figures for this file (sales of known customers)."""
    sales = frame[(frame["quantity"] > 0) & ~frame["guest"]]
    report.figures.update({
        "sale_lines": len(sales),
        "customers_with_sales": int(sales["customer_id"].nunique()),
        "products_sold": int(sales["sku"].nunique()),
        "products_sold_excluding_fees": int(sales.loc[~sales["fee"], "sku"].nunique()),
        "invoices_with_sales": int(sales["order_id"].nunique()),
        "lines_loaded": len(frame),
    })
