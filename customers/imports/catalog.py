"""Cleaning of customer, product, review and event files into frames ready to load.

Each kind shares the order files' rules where they apply (exact duplicates, text, countries,
timestamps); review- and event-specific rules are here, each a named, counted function.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from django.core.validators import validate_email
from django.forms import ValidationError

from customers.imports import cleaning as rules
from customers.imports.readers import Layout, RawTable
from customers.imports.report import ImportReport

# Reviews without a date (the English clothing reviews have none) get a deterministic date in
# this year, spread by the hash of the row: stable across re-imports, documented in docs/data.md.
UNDATED_REVIEWS_START = datetime(2018, 1, 1, tzinfo=UTC)
UNDATED_REVIEWS_SPAN_S = 365 * 24 * 3600
EVENT_KINDS = ("view", "click", "add_to_cart", "search")


def _prepare(raw: RawTable, report: ImportReport, optional: tuple[str, ...]) -> pd.DataFrame:
    frame = raw.frame
    for column in optional:
        if column not in frame.columns:
            frame[column] = ""
    report.rows_read = len(frame)
    duplicate = rule_exact_duplicate_rows(frame, report)
    return frame[~duplicate].reset_index(drop=True)


def rule_exact_duplicate_rows(frame: pd.DataFrame, report: ImportReport) -> pd.Series:
    """A row identical in every column of the file to an earlier one: dropped, first kept."""
    duplicate = frame["_row"].duplicated(keep="first")
    report.count("exact_duplicates", duplicate, frame)
    report.drop("exact_duplicates", duplicate.sum())
    return duplicate


def rule_duplicate_keys(frame: pd.DataFrame, report: ImportReport, key: str) -> pd.DataFrame:
    """The same id twice with different values: the last row in the file wins."""
    repeated = frame[key].duplicated(keep="last")
    report.count(f"repeated_{key}", repeated, frame)
    report.drop(f"repeated_{key}", repeated.sum())
    return frame[~repeated].reset_index(drop=True)


def rule_invalid_emails(frame: pd.DataFrame, report: ImportReport) -> pd.Series:
    """Emails lower-cased; an address that is not valid is left blank (the row is kept)."""
    emails = frame["email"].str.lower()

    def valid(address: str) -> bool:
        try:
            validate_email(address)
        except ValidationError:
            return False
        return True

    bad = (emails != "") & ~emails.map(valid)
    report.count("invalid_email", bad, frame)
    return emails.where(~bad, "")


def clean_customers(raw: RawTable, layout: Layout, report: ImportReport, *, shop_timezone: str) -> pd.DataFrame:
    frame = _prepare(raw, report, ("email", "name", "country", "first_seen"))
    frame["external_id"] = rules.normalise_customer_ids(frame.rename(columns={"external_id": "customer_id"}), report)
    rules._fail(frame, frame["external_id"] == "", raw.source, "external_id", "present (it is required)")
    frame = rule_duplicate_keys(frame, report, "external_id")
    frame["email"] = rule_invalid_emails(frame, report)
    frame["name"] = rules.normalise_text(frame, "name", report, titles=False).str.slice(0, 200)
    frame["country"] = rules.standardise_countries(frame, report)
    frame["first_seen"] = rules.parse_timestamps(frame, "first_seen", raw.source, date_format=layout.date_format,
                                                 dayfirst=layout.dayfirst, shop_timezone=shop_timezone, required=False)
    return frame[["external_id", "email", "name", "country", "first_seen"]]


def clean_products(raw: RawTable, layout: Layout, report: ImportReport) -> pd.DataFrame:
    frame = _prepare(raw, report, ("title", "description", "category", "price", "kind"))
    rules._fail(frame, frame["sku"] == "", raw.source, "sku", "present (it is required)")
    frame = rule_duplicate_keys(frame, report, "sku")
    frame["title"] = rules.normalise_text(frame, "title", report, titles=True).str.slice(0, 300)
    frame["category"] = rules.normalise_text(frame, "category", report, titles=False).str.slice(0, 120)
    frame["price"] = rules.parse_decimals(frame, "price", raw.source, required=False)
    rules._fail(frame, frame["price"] < 0, raw.source, "price", "zero or more")
    fee = rules.rule_fee_codes(frame.assign(sku=frame["sku"]), report)
    kind = frame["kind"].str.lower()
    rules._fail(frame, ~kind.isin(["", "product", "fee"]), raw.source, "kind", "'product' or 'fee'")
    frame["kind"] = kind.where(kind != "", fee.map({True: "fee", False: "product"}))
    return frame[["sku", "title", "description", "category", "price", "kind"]]


def clean_reviews(raw: RawTable, layout: Layout, report: ImportReport, *, shop_timezone: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reviews and the products they name (SKU = the layout's prefix + the file's product id)."""
    frame = _prepare(raw, report, ("external_id", "product_sku", "customer_id", "title", "text", "language", "created_at",
                                   "category", "class_name", "division"))
    frame["rating"] = pd.to_numeric(frame["rating"].where(frame["rating"] != "", None), errors="coerce")
    rules._fail(frame, frame["rating"].isna() & (raw.frame.loc[frame.index, "rating"] != ""), raw.source, "rating", "a number")
    rules._fail(frame, frame["rating"].notna() & ~frame["rating"].isin([1, 2, 3, 4, 5]), raw.source, "rating", "a whole number from 1 to 5")
    frame = rule_reviews_without_content(frame, report)
    frame["text"] = rules.normalise_text(frame, "text", report, titles=False)
    frame["title"] = rules.normalise_text(frame, "title", report, titles=False).str.slice(0, 300)
    frame["language"] = frame["language"].where(frame["language"] != "", layout.language).str.lower().str.slice(0, 8)
    frame["external_id"] = frame["external_id"].where(frame["external_id"] != "", "rev-" + frame["_row"])
    frame["created_at"] = rule_undated_reviews(frame, raw, layout, report, shop_timezone)
    frame["product_ref"] = frame["product_sku"]
    frame["product_sku"] = (layout.sku_prefix + frame["product_sku"]).where(frame["product_sku"] != "", "")
    frame["customer_id"] = rules.normalise_customer_ids(frame, report)
    return frame, _review_products(frame)


def rule_reviews_without_content(frame: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    """No text: kept when rated (counted); neither text nor rating: nothing to keep, dropped."""
    no_text = frame["text"].str.strip() == ""
    report.count("review_without_text", no_text, frame)
    report.count("review_without_title", frame["title"].str.strip() == "", frame)
    empty = no_text & frame["rating"].isna()
    report.count("review_without_text_or_rating", empty, frame)
    report.drop("review_without_text_or_rating", empty.sum())
    return frame[~empty].reset_index(drop=True)


def rule_undated_reviews(frame: pd.DataFrame, raw: RawTable, layout: Layout, report: ImportReport, shop_timezone: str) -> pd.Series:
    """A review without a date gets a deterministic one: UNDATED_REVIEWS_START + hash(row) mod a year."""
    undated = frame["created_at"] == ""
    report.count("review_date_synthesised", undated, frame)
    offsets = frame["_row"].str.slice(0, 8).map(lambda h: int(h, 16) % UNDATED_REVIEWS_SPAN_S)
    synthetic = offsets.map(lambda s: UNDATED_REVIEWS_START + timedelta(seconds=int(s)))
    if undated.all():
        return pd.to_datetime(synthetic, utc=True)
    dated = rules.parse_timestamps(frame, "created_at", raw.source, date_format=layout.date_format, dayfirst=layout.dayfirst,
                                   shop_timezone=shop_timezone, required=False)
    return dated.where(~undated, pd.to_datetime(synthetic, utc=True))


def _review_products(frame: pd.DataFrame) -> pd.DataFrame:
    named = frame[frame["product_sku"] != ""]
    if named.empty:
        return pd.DataFrame(columns=["sku", "title", "category", "description"])

    def most_frequent(column: str) -> pd.Series:
        counts = named.groupby(["product_sku", column]).size().reset_index(name="n")
        return counts.sort_values(["product_sku", "n", column], ascending=[True, False, True]).drop_duplicates("product_sku").set_index("product_sku")[column]

    products = pd.DataFrame({"sku": sorted(named["product_sku"].unique())})
    class_name, division = most_frequent("class_name"), most_frequent("division")
    products["category"] = products["sku"].map(most_frequent("category")).fillna("").str.slice(0, 120)
    refs = named.drop_duplicates("product_sku").set_index("product_sku")["product_ref"]
    products["title"] = (products["sku"].map(class_name).replace("", "Item").fillna("Item") + " #" + products["sku"].map(refs)).str.slice(0, 300)
    products["description"] = ("Division: " + products["sku"].map(division).fillna("") + "; class: " + products["sku"].map(class_name).fillna(""))
    return products


def clean_events(raw: RawTable, layout: Layout, report: ImportReport, *, shop_timezone: str) -> pd.DataFrame:
    frame = _prepare(raw, report, ("external_id", "sku"))
    frame["customer_id"] = rules.normalise_customer_ids(frame, report)
    frame["kind"] = frame["kind"].str.lower().str.replace(" ", "_")
    unknown = ~frame["kind"].isin(EVENT_KINDS)
    report.count("unknown_event_kind", unknown, frame)
    report.drop("unknown_event_kind", unknown.sum())
    frame = frame[~unknown].reset_index(drop=True)
    frame["occurred_at"] = rules.parse_timestamps(frame, "occurred_at", raw.source, date_format=layout.date_format,
                                                  dayfirst=layout.dayfirst, shop_timezone=shop_timezone)
    frame["external_id"] = frame["external_id"].where(frame["external_id"] != "", "evt-" + frame["_row"])
    return frame
