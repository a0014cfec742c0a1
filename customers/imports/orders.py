"""Order-line files -> clean frames of customers, products, orders and lines, ready to load.

The order of the steps matters only for what is dropped (a line is dropped by the first rule
that drops it); every rule counts the lines as read, see customers.imports.report.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from customers.imports import cleaning as rules
from customers.imports.readers import Layout, RawTable, row_hashes
from customers.imports.report import ImportReport

KEY_COLUMNS = ["order_id", "sku", "description", "quantity", "placed_at", "unit_price", "customer_id", "country"]


@dataclass(frozen=True)
class OrderFrames:
    customers: pd.DataFrame  # external_id, country, first_seen
    products: pd.DataFrame  # sku, title ("" where the file has no description: keep the stored one), other_titles, kind, price, attributes
    orders: pd.DataFrame  # external_id, customer_ext, placed_at, status, currency, country, total
    lines: pd.DataFrame  # source_key, order_ext, sku, quantity, unit_price, returned_key


def line_keys(frame: pd.DataFrame) -> pd.Series:
    """The natural key of a line: a 128-bit BLAKE2b hash of its eight source fields as written.

    Exact duplicates are dropped before loading, so within one file the key is unique; the same
    line in another (overlapping) file gets the same key and merges instead of duplicating."""
    return pd.Series(row_hashes(frame[KEY_COLUMNS]), index=frame.index)


def clean_orders(raw: RawTable, layout: Layout, report: ImportReport, *, shop_timezone: str, currency: str,
                 product_kinds: dict | None = None, latest: datetime | None = None) -> OrderFrames:
    """product_kinds: the fee rules when the layout has none (settings.SHOP_PRODUCT_KINDS);
    latest: the latest order time accepted (now + IMPORT_MAX_FUTURE_DAYS)."""
    frame = raw.frame
    report.source = raw.source
    rules.refuse_json_values(frame, raw.source)
    for column in ("description", "customer_id", "country", "currency", "category", "kind", "unit_price", "line_total"):
        if column not in frame.columns:
            frame[column] = ""
    report.rows_read = len(frame)
    frame["customer_id"] = rules.normalise_customer_ids(frame, report)
    frame["source_key"] = line_keys(frame)
    frame = _parse(frame, raw.source, layout, shop_timezone, report, latest)
    frame = _flag_and_drop(frame, report, layout, product_kinds)
    frame["title"] = rules.normalise_text(frame, "description", report, titles=True)
    frame["category"] = rules.normalise_text(frame, "category", report, titles=False)
    frame["country"] = rules.standardise_countries(frame, report)
    frame["currency"] = rules.per_value(frame["currency"].where(frame["currency"] != "", layout.currency or currency), str.upper)
    report.rules["timestamps_made_aware"] = len(frame)
    report.notes.append(f"Times read as {shop_timezone} local time, stored in UTC; currency {layout.currency or currency} where the file has none.")
    titles = rules.sku_titles(frame)
    lines = _lines(frame, report)
    frames = OrderFrames(
        customers=_customers(frame), products=_products(frame, titles, report), orders=_orders(frame), lines=lines,
    )
    _figures(frame, report)
    return frames


def _parse(frame: pd.DataFrame, source: str, layout: Layout, shop_timezone: str, report: ImportReport,
           latest: datetime | None) -> pd.DataFrame:
    for column in ("order_id", "sku"):
        rules._fail(frame, frame[column] == "", source, column, "present (it is required)")
    frame["quantity"] = rules.parse_integers(frame, "quantity", source)
    frame["unit_price"] = _unit_prices(frame, source, report)
    amount = frame["quantity"] * frame["unit_price"]
    rules._fail(frame.assign(_amount=amount), amount.abs() >= rules.MAX_AMOUNT, source, "quantity × unit_price",
                f"an amount the database can hold (below {rules.MAX_AMOUNT:,.0f})", shown="_amount")
    frame["placed_at"] = rules.parse_timestamps(
        frame, "placed_at", source, date_format=layout.date_format, dayfirst=layout.dayfirst, shop_timezone=shop_timezone,
        latest=latest,
    )
    return frame


def _unit_prices(frame: pd.DataFrame, source: str, report: ImportReport) -> pd.Series:
    """The file's unit price, else line_total / quantity (kept to PRICE_PLACES decimals, so the line's
    amount is the file's line total to the cent): counted as unit_price_derived, rounding counted too."""
    given = frame["unit_price"] != ""
    prices = rules.parse_decimals(frame.assign(unit_price=frame["unit_price"].where(given, "0")), "unit_price", source)
    rules.rule_decimals_rounded(frame, "unit_price", report)
    derive = ~given
    if not derive.any():
        return prices
    totals = rules.parse_decimals(frame.assign(line_total=frame["line_total"].where(derive, "")), "line_total", source, required=False,
                                  amount=True)
    rules._fail(frame, derive & (frame["line_total"] == ""), source, "unit_price", "present, and neither is line_total")
    quantity = frame["quantity"].where(frame["quantity"] != 0, np.nan)
    # Signed: a line total against its quantity's sign (a coupon: 1 unit, -0.50) gives a negative
    # price, which the non_positive_price rule counts and drops, instead of a silently flipped sale.
    derived = (totals / quantity).fillna(0.0)
    rules._fail(frame, derive & (derived.abs() >= rules.MAX_PRICE), source, "line_total",
                f"a line total whose unit price the database can hold (below {rules.MAX_PRICE:,.0f})")
    report.count("unit_price_derived", derive, frame)
    exact = np.isclose(derived.round(rules.PRICE_PLACES), derived, rtol=0, atol=1e-15 * np.maximum(1, derived.abs()))
    report.count("unit_price_rounded", derive & ~exact, frame.assign(unit_price=derived))
    return prices.where(given, derived)


def _flag_and_drop(frame: pd.DataFrame, report: ImportReport, layout: Layout, product_kinds: dict | None) -> pd.DataFrame:
    frame["guest"] = rules.rule_guest_lines(frame, report)
    frame["cancelled"] = rules.rule_cancellations(frame, report, layout.cancellation_prefix)
    zero = rules.rule_non_positive_quantities(frame, report)
    rules.rule_missing_description(frame, report)
    rules.rule_sku_descriptions(frame, report)
    duplicate = rules.rule_exact_duplicates(frame, report, KEY_COLUMNS)
    bad_price = rules.rule_non_positive_prices(frame, report)
    frame["fee"] = rules.rule_fee_codes(frame, report, layout.product_kinds if layout.product_kinds is not None else product_kinds)
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
    orders["total"] = orders["total"].round(4)
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


def _products(frame: pd.DataFrame, titles: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    products = titles.copy()
    fee_skus = set(frame.loc[frame["fee"], "sku"])
    products["kind"] = products["sku"].map(lambda s: "fee" if s in fee_skus else "product")
    # only the three columns it reads: a filtered, sorted copy of the whole frame was the import's peak
    sales = frame.loc[(frame["quantity"] > 0) & ~frame["fee"], ["sku", "unit_price", "placed_at"]].sort_values("placed_at")
    latest_price = sales.groupby("sku")["unit_price"].last().round(rules.PRICE_PLACES)
    products["price"] = products["sku"].map(latest_price)
    products["title"] = rules.rule_clip(products, "title", 300, report)
    categories = _latest(frame, "category").to_dict()
    products["category"] = rules.rule_clip(products.assign(category=[categories.get(s, "") for s in products["sku"]]),
                                           "category", 120, report)
    products["attributes"] = _attributes(frame, products["sku"])
    return products


def _latest(frame: pd.DataFrame, column: str) -> pd.Series:
    """Per SKU: the value of its latest line that has one."""
    written = frame.loc[frame[column] != "", ["sku", column, "placed_at"]]
    return written.sort_values("placed_at").groupby("sku")[column].last()


def _attributes(frame: pd.DataFrame, skus: pd.Series) -> list[dict]:
    """Per SKU: {attribute: its latest non-blank value} from the mapping's attribute columns."""
    names = [c for c in frame.columns if c.startswith("attr:")]
    if not names:
        return [{} for _ in skus]
    latest = {c.removeprefix("attr:"): _latest(frame, c).to_dict() for c in names}
    return [{name: values[sku] for name, values in latest.items() if sku in values} for sku in skus]


def _figures(frame: pd.DataFrame, report: ImportReport) -> None:
    """The cleaned tables' headline figures for this file (sales of known customers)."""
    sales = frame.loc[(frame["quantity"] > 0) & ~frame["guest"], ["customer_id", "sku", "fee", "order_id"]]
    report.figures.update({
        "sale_lines": len(sales),
        "customers_with_sales": int(sales["customer_id"].nunique()),
        "products_sold": int(sales["sku"].nunique()),
        "products_sold_excluding_fees": int(sales.loc[~sales["fee"], "sku"].nunique()),
        "invoices_with_sales": int(sales["order_id"].nunique()),
        "lines_loaded": len(frame),
    })
