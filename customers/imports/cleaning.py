"""Cleaning rules of imported shop data: one named function per rule, each counted in the report.

Parsers turn the canonical string columns into typed ones and fail on the first bad line with
ImportFileError. Rules take the frame and the report, count (and sample) the lines they apply
to, and either flag, fix or drop lines; docs/data.md states each rule and its decision.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from customers.imports.readers import ImportFileError
from customers.imports.report import ImportReport

# Stock codes that are not products (postage, manual adjustments, bank and marketplace charges,
# commission, samples, discounts, bad-debt adjustments, cushion pads sold at 0.001).
FEE_CODES = frozenset({
    "POST", "DOT", "M", "D", "C2", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS", "CARRIAGE", "ADJUST",
})
FEE_PREFIXES = ("GIFT_",)  # gift vouchers: money, not merchandise
EXTREME_QUANTITY = 10_000

COUNTRY_NAMES = {
    "EIRE": "Ireland", "RSA": "South Africa", "USA": "United States", "UK": "United Kingdom",
    "Unspecified": "", "European Community": "",
}

_SPACES = re.compile(r"\s+")
_FLOAT_ZERO = re.compile(r"\.0+$")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")  # "T-LIGHT" -> "T-Light", "DON'T" -> "Don't"


# --- parsers --------------------------------------------------------------------------------
def _fail(frame: pd.DataFrame, bad: pd.Series, source: str, column: str, what: str) -> None:
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        value = frame[column].iloc[first]
        raise ImportFileError(source, int(frame["_line"].iloc[first]), f"{column} {value!r} is not {what}")


def parse_integers(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    numbers = pd.to_numeric(frame[column], errors="coerce")
    _fail(frame, numbers.isna() | (numbers % 1 != 0), source, column, "a whole number")
    return numbers.astype("int64")


def parse_decimals(frame: pd.DataFrame, column: str, source: str, *, required: bool = True) -> pd.Series:
    numbers = pd.to_numeric(frame[column], errors="coerce")
    bad = numbers.isna() if required else numbers.isna() & (frame[column] != "")
    _fail(frame, bad, source, column, "a number")
    return numbers.astype("float64")


def parse_timestamps(frame: pd.DataFrame, column: str, source: str, *, date_format: str | None, dayfirst: bool,
                     shop_timezone: str, required: bool = True) -> pd.Series:
    """Parse and make timezone-aware: naive times are the shop's local time; the result is UTC."""
    raw = frame[column]
    if date_format:
        stamps = pd.to_datetime(raw, format=date_format, errors="coerce")
    else:
        stamps = pd.to_datetime(raw, format="ISO8601", errors="coerce", utc=_has_offsets(raw))
        if stamps.isna().any() and (raw != "").any():
            stamps = pd.to_datetime(raw, format="mixed", dayfirst=dayfirst, errors="coerce")
    bad = stamps.isna() if required else stamps.isna() & (raw != "")
    _fail(frame, bad, source, column, "a date/time")
    return make_timezone_aware(stamps, shop_timezone)


def _has_offsets(raw: pd.Series) -> bool:
    sample = raw[raw != ""].head(50)
    return bool(sample.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).any())


def make_timezone_aware(stamps: pd.Series, shop_timezone: str) -> pd.Series:
    """Naive local times -> UTC. An autumn hour that exists twice is read as standard time, a
    spring hour that does not exist is moved forward (both documented in docs/data.md)."""
    stamps = pd.to_datetime(stamps)
    if stamps.dt.tz is None:
        ambiguous = np.zeros(len(stamps), dtype=bool)
        stamps = stamps.dt.tz_localize(shop_timezone, ambiguous=ambiguous, nonexistent="shift_forward")
    return stamps.dt.tz_convert("UTC")


def per_value(series: pd.Series, function) -> pd.Series:
    """Apply a Python function once per distinct value (ids and codes repeat a lot)."""
    unique = series.unique()
    return series.map(dict(zip(unique, map(function, unique), strict=True)))


# --- text -----------------------------------------------------------------------------------
def title_case(text: str) -> str:
    """Whitespace collapsed; SHOUTED words capitalised, mixed-case words ('125g', 'iPhone') kept."""
    words = _SPACES.sub(" ", text).strip().split(" ")
    return " ".join(_WORD.sub(lambda m: m.group(0).capitalize(), w) if w.isupper() and len(w) > 1 else w for w in words)


def normalise_text(frame: pd.DataFrame, column: str, report: ImportReport, *, titles: bool) -> pd.Series:
    """Collapse whitespace (and title-case shouted titles); count the lines whose text changed."""
    result = per_value(frame[column], title_case if titles else (lambda t: _SPACES.sub(" ", t).strip()))
    report.count(f"{column}_text_normalised", result != frame[column], frame)
    return result


def standardise_countries(frame: pd.DataFrame, report: ImportReport) -> pd.Series:
    """Codes and aliases to one English short name ('EIRE' -> 'Ireland'); unknown regions blank."""
    result = per_value(frame["country"], lambda c: COUNTRY_NAMES.get(c, c))
    report.count("country_standardised", result != frame["country"], frame)
    return result


def normalise_customer_ids(frame: pd.DataFrame, report: ImportReport) -> pd.Series:
    """'17850.0' (a spreadsheet's float) -> '17850'."""
    result = per_value(frame["customer_id"], lambda c: _FLOAT_ZERO.sub("", c))
    report.count("customer_id_normalised", result != frame["customer_id"], frame)
    return result


# --- order-line rules -----------------------------------------------------------------------
def rule_guest_lines(frame: pd.DataFrame, report: ImportReport) -> pd.Series:
    """Lines without a customer id: kept as guest orders (customer NULL), out of customer analytics."""
    guest = frame["customer_id"] == ""
    report.count("guest_lines", guest, frame)
    return guest


def rule_cancellations(frame: pd.DataFrame, report: ImportReport, prefix: str) -> pd.Series:
    """Invoices starting with the cancellation prefix ('C'): credit notes, kept as cancelled orders."""
    cancelled = per_value(frame["order_id"], lambda o: bool(prefix) and o.startswith(prefix)).astype(bool)
    report.count("cancellations", cancelled, frame)
    return cancelled


def rule_non_positive_quantities(frame: pd.DataFrame, report: ImportReport) -> pd.Series:
    """Quantity <= 0: negative lines are returns (kept); a zero quantity carries nothing and is dropped."""
    report.count("non_positive_quantity", frame["quantity"] <= 0, frame)
    zero = frame["quantity"] == 0
    report.count("zero_quantity", zero, frame)
    return zero


def rule_missing_description(frame: pd.DataFrame, report: ImportReport) -> None:
    """No description: the SKU's title comes from its other lines (or the SKU itself)."""
    report.count("missing_description", per_value(frame["description"], lambda d: not d.strip()).astype(bool), frame)


def rule_exact_duplicates(frame: pd.DataFrame, report: ImportReport, columns: list[str]) -> pd.Series:
    """A line identical in every column to an earlier one: the copy is dropped (first kept)."""
    duplicate = frame.duplicated(subset=columns, keep="first")
    report.count("exact_duplicates", duplicate, frame)
    return duplicate


def rule_non_positive_prices(frame: pd.DataFrame, report: ImportReport) -> pd.Series:
    """Unit price <= 0: stock adjustments ('damaged', 'found'), free items and bad-debt write-offs,
    not sales. Dropped from the shop tables; counted and sampled here."""
    bad = frame["unit_price"] <= 0
    report.count("non_positive_price", bad, frame)
    return bad


def rule_fee_codes(frame: pd.DataFrame, report: ImportReport) -> pd.Series:
    """Stock codes that are not products (postage, fees, adjustments, vouchers): Product(kind=fee)."""
    fee = per_value(frame["sku"], lambda sku: sku.upper() in FEE_CODES or sku.upper().startswith(FEE_PREFIXES)).astype(bool)
    report.count("fee_lines", fee, frame)
    report.figures["fee_codes"] = int(frame.loc[fee, "sku"].nunique())
    return fee


def rule_sku_descriptions(frame: pd.DataFrame, report: ImportReport) -> None:
    """A SKU with several descriptions (counted per SKU, on the file as read): its title becomes the
    most frequent description of its kept lines, the others are remembered (see sku_titles)."""
    described = frame[frame["description"].str.strip() != ""]
    several = described.groupby("sku")["description"].nunique()
    several = several[several > 1]
    report.rules["sku_several_descriptions"] = len(several)
    affected = described[described["sku"].isin(several.index)].drop_duplicates(["sku", "description"])
    if len(affected):
        report.samples["sku_several_descriptions"] = affected[["_line", "sku", "description"]].head(5).to_dict("records")


def sku_titles(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per SKU: sku, title (its most frequent normalised description), other_titles."""
    described = frame[frame["title"] != ""]
    counts = described.groupby(["sku", "title"]).size().reset_index(name="n")
    counts = counts.sort_values(["sku", "n", "title"], ascending=[True, False, True])
    first = counts.drop_duplicates("sku")
    best = first.set_index("sku")["title"]
    others = counts.drop(index=first.index).groupby("sku")["title"].agg(sorted)
    titles = pd.DataFrame({"sku": frame["sku"].unique()})
    best, others = best.to_dict(), others.to_dict()
    titles["title"] = [best.get(sku, sku) for sku in titles["sku"]]
    titles["other_titles"] = [others.get(sku, []) for sku in titles["sku"]]
    return titles


def match_returns(lines: pd.DataFrame, report: ImportReport) -> pd.Series:
    """For each return line of a known customer: the key of the latest earlier sale line of the same
    customer and SKU (None where there is none). Returns are never deleted either way."""
    returns = lines[(lines["quantity"] < 0) & (lines["customer_id"] != "")]
    sales = lines[(lines["quantity"] > 0) & (lines["customer_id"] != "")]
    if returns.empty or sales.empty:
        matched = pd.Series(None, index=returns.index, dtype=object)
    else:
        left = returns[["placed_at", "customer_id", "sku"]].assign(_idx=returns.index).sort_values("placed_at")
        right = sales[["placed_at", "customer_id", "sku", "source_key"]].rename(columns={"source_key": "sale_key"}).sort_values("placed_at")
        merged = pd.merge_asof(left, right, on="placed_at", by=["customer_id", "sku"], direction="backward")
        matched = merged.set_index("_idx")["sale_key"].reindex(returns.index)
    report.count("returns_matched_to_sale", matched.notna(), returns)
    report.count("returns_unmatched", matched.isna() & (returns["quantity"] < 0), returns)
    return matched.where(matched.notna(), None)


def rule_extreme_quantities(lines: pd.DataFrame, report: ImportReport) -> None:
    """|quantity| >= 10,000 sold and undone by a cancellation of the same quantity (a keying error):
    both lines are kept, linked, so they net to zero in every analysis that nets returns."""
    extreme = lines[lines["quantity"].abs() >= EXTREME_QUANTITY]
    returns = extreme[extreme["quantity"] < 0]
    undone_keys = set(returns["returned_key"].dropna())
    sales = extreme[extreme["source_key"].isin(undone_keys)]
    pairs = returns[returns["returned_key"].isin(set(sales["source_key"]))]
    pairs = pairs[pairs["quantity"].abs().to_numpy() == sales.set_index("source_key").loc[pairs["returned_key"], "quantity"].to_numpy()]
    report.count("extreme_quantity_undone", pd.concat([sales[sales["source_key"].isin(set(pairs["returned_key"]))], pairs]))
