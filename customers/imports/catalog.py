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
LABELS = {"1": "positive", "0": "negative", "positive": "positive", "negative": "negative", "pos": "positive", "neg": "negative",
          "true": "positive", "false": "negative", "yes": "positive", "no": "negative", "+1": "positive", "-1": "negative"}


def _prepare(raw: RawTable, report: ImportReport, optional: tuple[str, ...]) -> pd.DataFrame:
    frame = raw.frame
    report.source = raw.source
    rules.refuse_json_values(frame, raw.source)
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
    report.count("email_lowercased", emails != frame["email"], frame)

    def valid(address: str) -> bool:
        try:
            validate_email(address)
        except ValidationError:
            return False
        return len(address) <= 254  # the column's width

    bad = (emails != "") & ~emails.map(valid)
    report.count("invalid_email", bad, frame)
    return emails.where(~bad, "")


def clean_customers(raw: RawTable, layout: Layout, report: ImportReport, *, shop_timezone: str, latest=None) -> pd.DataFrame:
    frame = _prepare(raw, report, ("email", "name", "country", "first_seen"))
    frame["external_id"] = rules.normalise_customer_ids(frame.rename(columns={"external_id": "customer_id"}), report)
    rules._fail(frame, frame["external_id"] == "", raw.source, "external_id", "present (it is required)")
    frame = rule_duplicate_keys(frame, report, "external_id")
    frame["email"] = rule_invalid_emails(frame, report)
    frame["name"] = rules.rule_clip(frame.assign(name=rules.normalise_text(frame, "name", report, titles=False)), "name", 200, report)
    frame["country"] = rules.standardise_countries(frame, report)
    frame["first_seen"] = rules.parse_timestamps(frame, "first_seen", raw.source, date_format=layout.date_format,
                                                 dayfirst=layout.dayfirst, shop_timezone=shop_timezone, required=False, latest=latest)
    return frame[["external_id", "email", "name", "country", "first_seen"]]


def clean_products(raw: RawTable, layout: Layout, report: ImportReport, *, product_kinds: dict | None = None) -> pd.DataFrame:
    """product_kinds: the fee rules when the layout has none (settings.SHOP_PRODUCT_KINDS)."""
    frame = _prepare(raw, report, ("title", "description", "category", "price", "kind"))
    rules._fail(frame, frame["sku"] == "", raw.source, "sku", "present (it is required)")
    frame = rule_duplicate_keys(frame, report, "sku")
    frame["title"] = rules.rule_clip(frame.assign(title=rules.normalise_text(frame, "title", report, titles=True)), "title", 300, report)
    frame["category"] = rules.rule_clip(frame.assign(category=rules.normalise_text(frame, "category", report, titles=False)),
                                        "category", 120, report)
    rules.rule_decimals_rounded(frame, "price", report)
    frame["price"] = rules.parse_decimals(frame, "price", raw.source, required=False)
    rules._fail(frame, frame["price"] < 0, raw.source, "price", "zero or more")
    fee = rules.rule_fee_codes(frame, report, layout.product_kinds if layout.product_kinds is not None else product_kinds)
    frame["kind"] = fee.map({True: "fee", False: "product"})
    attributes = [c for c in frame.columns if c.startswith("attr:")]
    frame["attributes"] = [{k.removeprefix("attr:"): v for k, v in zip(attributes, row, strict=True) if v != ""}
                           for row in zip(*(frame[c] for c in attributes), strict=True)] if attributes else [{}] * len(frame)
    return frame[["sku", "title", "description", "category", "price", "kind", "attributes"]]


def clean_reviews(raw: RawTable, layout: Layout, report: ImportReport, *, shop_timezone: str,
                  latest=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reviews and the products they name (SKU = the layout's prefix + the file's product id)."""
    frame = _prepare(raw, report, ("rating", "label", "external_id", "product_sku", "customer_id", "title", "text", "language",
                                   "created_at", "category", "class_name", "division"))
    written = frame["rating"]
    frame["rating"] = pd.to_numeric(written.where(written != "", None), errors="coerce")
    frame["rating_as_read"] = written
    rules._fail(frame, frame["rating"].isna() & (written != ""), raw.source, "rating", "a number", shown="rating_as_read")
    rules._fail(frame, frame["rating"].notna() & ~frame["rating"].isin([1, 2, 3, 4, 5]), raw.source, "rating",
                "a whole number from 1 to 5 (a 0/1 or positive/negative column is a label: map it to `label`)", shown="rating_as_read")
    frame["label"] = parse_labels(frame, raw.source)
    frame = rule_reviews_without_content(frame, report)
    frame["text"] = rules.normalise_text(frame, "text", report, titles=False)
    frame["title"] = rules.rule_clip(frame.assign(title=rules.normalise_text(frame, "title", report, titles=False)), "title", 300, report)
    frame["language"] = frame["language"].where(frame["language"] != "", layout.language).str.lower().str.slice(0, 8)
    frame["external_id"] = frame["external_id"].where(frame["external_id"] != "", "rev-" + frame["_row"])
    frame["created_at"] = rule_undated_reviews(frame, raw, layout, report, shop_timezone, latest)
    frame["product_ref"] = frame["product_sku"]
    frame["product_sku"] = (layout.sku_prefix + frame["product_sku"]).where(frame["product_sku"] != "", "")
    frame["customer_id"] = rules.normalise_customer_ids(frame, report)
    return frame, _review_products(frame, report)


def parse_labels(frame: pd.DataFrame, source: str) -> pd.Series:
    """A review's label as the file wrote it: 1/0, positive/negative, pos/neg, true/false, yes/no."""
    written = frame["label"].str.strip().str.lower()
    labels = written.map(LABELS)
    rules._fail(frame, labels.isna() & (written != ""), source, "label", "1/0 or positive/negative")
    return labels.fillna("")


def rule_reviews_without_content(frame: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    """No text: kept when rated or labelled (counted); neither text nor rating nor label: nothing to keep, dropped."""
    no_text = frame["text"].str.strip() == ""
    report.count("review_without_text", no_text, frame)
    report.count("review_without_title", frame["title"].str.strip() == "", frame)
    empty = no_text & frame["rating"].isna() & (frame["label"] == "")
    report.count("review_without_text_or_rating", empty, frame)
    report.drop("review_without_text_or_rating", empty.sum())
    return frame[~empty].reset_index(drop=True)


def rule_undated_reviews(frame: pd.DataFrame, raw: RawTable, layout: Layout, report: ImportReport, shop_timezone: str,
                         latest=None) -> pd.Series:
    """A review without a date gets a deterministic one: UNDATED_REVIEWS_START + hash(row) mod a year."""
    undated = frame["created_at"] == ""
    report.count("review_date_synthesised", undated, frame)
    offsets = frame["_row"].str.slice(0, 8).map(lambda h: int(h, 16) % UNDATED_REVIEWS_SPAN_S)
    synthetic = offsets.map(lambda s: UNDATED_REVIEWS_START + timedelta(seconds=int(s)))
    if undated.all():
        return pd.to_datetime(synthetic, utc=True)
    dated = rules.parse_timestamps(frame, "created_at", raw.source, date_format=layout.date_format, dayfirst=layout.dayfirst,
                                   shop_timezone=shop_timezone, required=False, latest=latest)
    return dated.where(~undated, pd.to_datetime(synthetic, utc=True))


def _review_products(frame: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    named = frame[frame["product_sku"] != ""]
    if named.empty:
        return pd.DataFrame(columns=["sku", "title", "category", "description"])

    def most_frequent(column: str) -> pd.Series:
        counts = named.groupby(["product_sku", column]).size().reset_index(name="n")
        return counts.sort_values(["product_sku", "n", column], ascending=[True, False, True]).drop_duplicates("product_sku").set_index("product_sku")[column]

    products = pd.DataFrame({"sku": sorted(named["product_sku"].unique())})
    class_name, division = most_frequent("class_name"), most_frequent("division")
    products["category"] = rules.rule_clip(products.assign(category=products["sku"].map(most_frequent("category")).fillna("")),
                                           "category", 120, report)
    refs = named.drop_duplicates("product_sku").set_index("product_sku")["product_ref"]
    products["title"] = rules.rule_clip(products.assign(
        title=products["sku"].map(class_name).replace("", "Item").fillna("Item") + " #" + products["sku"].map(refs)), "title", 300, report)
    products["description"] = ("Division: " + products["sku"].map(division).fillna("") + "; class: " + products["sku"].map(class_name).fillna(""))
    return products


def clean_events(raw: RawTable, layout: Layout, report: ImportReport, *, shop_timezone: str, latest=None) -> pd.DataFrame:
    frame = _prepare(raw, report, ("external_id", "sku"))
    frame["customer_id"] = rules.normalise_customer_ids(frame, report)
    frame["kind"] = frame["kind"].str.lower().str.replace(" ", "_")
    unknown = ~frame["kind"].isin(EVENT_KINDS)
    report.count("unknown_event_kind", unknown, frame)
    report.drop("unknown_event_kind", unknown.sum())
    frame = frame[~unknown].reset_index(drop=True)
    frame["occurred_at"] = rules.parse_timestamps(frame, "occurred_at", raw.source, date_format=layout.date_format,
                                                  dayfirst=layout.dayfirst, shop_timezone=shop_timezone, latest=latest)
    frame["external_id"] = frame["external_id"].where(frame["external_id"] != "", "evt-" + frame["_row"])
    return frame
