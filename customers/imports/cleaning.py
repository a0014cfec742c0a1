"""Cleaning rules of imported shop data: one named function per rule, each counted in the report.

Parsers turn the canonical string columns into typed ones and fail on the first bad line with
ImportFileError. Rules take the frame and the report, count (and sample) the lines they apply
to, and either flag, fix or drop lines; docs/data.md states each rule and its decision.
"""
from __future__ import annotations

import json
import re
from datetime import datetime

import numpy as np
import pandas as pd

from customers.imports.readers import ImportFileError, quoted
from customers.imports.report import ImportReport

EXTREME_QUANTITY = 10_000
INT32_MAX = 2**31 - 1  # OrderLine.quantity is a 32-bit integer column
# Largest magnitudes the price and amount columns hold (customers.models PRICE_* / AMOUNT_*).
MAX_PRICE = 10.0**14
MAX_AMOUNT = 10.0**16
PRICE_PLACES = 10
_EPOCH = re.compile(r"^\d{9,10}(?:\.\d+)?$")
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b")

COUNTRY_NAMES = {
    "EIRE": "Ireland", "RSA": "South Africa", "USA": "United States", "UK": "United Kingdom",
    "Unspecified": "", "European Community": "",
}

_SPACES = re.compile(r"\s+")
_FLOAT_ZERO = re.compile(r"\.0+$")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")  # "T-LIGHT" -> "T-Light", "DON'T" -> "Don't"


# --- parsers --------------------------------------------------------------------------------
def _fail(frame: pd.DataFrame, bad: pd.Series, source: str, column: str, what: str, shown: str | None = None) -> None:
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        value = frame[shown or column].iloc[first]
        raise ImportFileError(source, int(frame["_line"].iloc[first]), f"{column} {quoted(value)} is not {what}")


def refuse_json_values(frame: pd.DataFrame, source: str) -> None:
    """A JSON object or list as a field's value (an API record {"sku": {"a": 1}}, a pasted blob): refused.

    Checked on distinct values only; '[SALE] Mug {blue}' is text, '{"a": 1}' is an object."""
    for column in (c for c in frame.columns if not c.startswith("_")):
        bad = {v for v in pd.unique(frame[column]) if isinstance(v, str) and v.lstrip()[:1] in ("{", "[")
               and v.rstrip()[-1:] in ("}", "]") and _is_json_container(v)}
        if bad:
            _fail(frame, frame[column].isin(bad), source, column, "a plain value (it is a JSON object or list)")


def _is_json_container(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict | list)
    except ValueError:
        return False


def parse_integers(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    numbers = pd.to_numeric(frame[column], errors="coerce")
    _fail(frame, numbers.isna() | (numbers % 1 != 0), source, column, "a whole number")
    numbers = numbers.astype("float64")
    _fail(frame, numbers.abs() > INT32_MAX, source, column, f"a quantity the database can hold (at most {INT32_MAX:,} either way)")
    return numbers.astype("int64")


def parse_decimals(frame: pd.DataFrame, column: str, source: str, *, required: bool = True, amount: bool = False) -> pd.Series:
    """Numbers of a price column (below MAX_PRICE), or of an amount column (amount=True: below MAX_AMOUNT)."""
    numbers = pd.to_numeric(frame[column], errors="coerce")
    bad = numbers.isna() if required else numbers.isna() & (frame[column] != "")
    _fail(frame, bad, source, column, "a number")
    numbers = numbers.astype("float64")
    _fail(frame, ~np.isfinite(numbers.fillna(0)), source, column, "a finite number")
    limit, what = (MAX_AMOUNT, "an amount") if amount else (MAX_PRICE, "a price")
    _fail(frame, numbers.abs() >= limit, source, column, f"{what} the database can hold (below {limit:,.0f})")
    return numbers


def rule_decimals_rounded(frame: pd.DataFrame, column: str, report: ImportReport) -> None:
    """A price written with more than PRICE_PLACES decimals is stored rounded to them: counted and sampled."""
    rounded = per_value(frame[column], lambda v: len(v.partition(".")[2].rstrip("0")) > PRICE_PLACES
                        if "e" not in v.lower() else False).astype(bool)
    report.count(f"{column}_rounded", rounded, frame)


def parse_timestamps(frame: pd.DataFrame, column: str, source: str, *, date_format: str | None, dayfirst: bool | None,
                     shop_timezone: str, required: bool = True, latest: datetime | None = None) -> pd.Series:
    """Parse and make timezone-aware: naive times are the shop's local time; the result is UTC.

    date_format "epoch" / "epoch_ms" reads Unix seconds / milliseconds (a column of 9-10 digit
    numbers is read as seconds without it). Day/month order: dayfirst, else what the file shows
    (a day above 12), else the file is refused. `latest`: a later time is refused (far future)."""
    raw = frame[column]
    written = raw[raw != ""]
    if date_format in ("epoch", "epoch_ms") or (date_format is None and len(written) and written.str.match(_EPOCH).all()):
        numbers = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        _fail(frame, numbers.isna() & (raw != ""), source, column, "a Unix time (seconds since 1970)")
        stamps = pd.to_datetime(numbers, unit="ms" if date_format == "epoch_ms" else "s", utc=True, errors="coerce")
    elif date_format:
        stamps = pd.to_datetime(raw, format=date_format, errors="coerce", utc=_has_offsets(raw))
    else:
        stamps = pd.to_datetime(raw, format="ISO8601", errors="coerce", utc=_has_offsets(raw))
        if stamps.isna().any() and (raw != "").any():
            first = day_first(frame, column, source, dayfirst)
            stamps = pd.to_datetime(raw, format="mixed", dayfirst=first, errors="coerce", utc=_has_offsets(raw))
    bad = stamps.isna() if required else stamps.isna() & (raw != "")
    _fail(frame, bad, source, column, "a date/time")
    aware = make_timezone_aware(stamps, shop_timezone)
    if latest is not None:
        _fail(frame, aware > pd.Timestamp(latest), source, column,
              f"a date up to {latest:%Y-%m-%d %H:%M} UTC (later is refused as a keying error; IMPORT_MAX_FUTURE_DAYS)")
    return aware


def day_first(frame: pd.DataFrame, column: str, source: str, dayfirst: bool | None) -> bool:
    """The day/month order of 'NN/NN/YYYY' dates: as the mapping says, checked against the file; or as
    the file shows it (a first number above 12 is a day); a file where every date reads both ways is refused."""
    parts = frame[column].str.extract(_DAY_MONTH).astype(float)
    first_day = (parts[0] > 12) & (parts[1] <= 12)
    first_month = (parts[1] > 12) & (parts[0] <= 12)
    if dayfirst is None:
        if first_day.any() and first_month.any():
            _fail(frame, first_month if first_day.sum() >= first_month.sum() else first_day, source, column,
                  "in the day/month order of the rest of the file; set dayfirst in the mapping")
        if not first_day.any() and not first_month.any() and parts[0].notna().any():
            _fail(frame, parts[0].notna() & (parts[0] != parts[1]), source, column,
                  "an unambiguous date: no date of this file has a day above 12, so 01/02 could be 1 February or "
                  "2 January; set dayfirst: true (day/month) or dayfirst: false (month/day) in the mapping")
        return bool(first_day.any())
    _fail(frame, first_month if dayfirst else first_day, source, column,
          f"a {'day/month' if dayfirst else 'month/day'} date as the mapping's dayfirst: {str(dayfirst).lower()} says")
    return dayfirst


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


def fee_matcher(rules: dict | None):
    """sku, category -> is a fee, by the mapping's (or settings') product_kinds["fee"] rule:
    SKUs (exact, case-insensitive), SKU patterns (regular expressions matching the whole SKU) and
    categories (exact, case-insensitive)."""
    rule = (rules or {}).get("fee", {})
    skus = {s.upper() for s in rule.get("skus", [])}
    patterns = [re.compile(p, re.IGNORECASE) for p in rule.get("sku_patterns", [])]
    categories = {c.strip().upper() for c in rule.get("categories", [])}

    def is_fee(sku: str, category: str) -> bool:
        return sku.upper() in skus or category.strip().upper() in categories or any(p.fullmatch(sku) for p in patterns)
    return is_fee


def rule_fee_codes(frame: pd.DataFrame, report: ImportReport, rules: dict | None = None) -> pd.Series:
    """Lines that are not merchandise (postage, fees, fuel, deposits, vouchers), by the product_kinds
    rules or a `kind` column: their products become Product(kind=fee)."""
    is_fee = fee_matcher(rules)
    if (rules or {}).get("fee", {}).get("categories") and "category" in frame.columns:
        pairs = (frame["sku"] + "\x1f" + frame["category"]).astype(str)
        fee = per_value(pairs, lambda p: is_fee(*p.split("\x1f", 1))).astype(bool)
    else:  # no category rule: one test per distinct SKU
        fee = per_value(frame["sku"], lambda sku: is_fee(sku, "")).astype(bool)
    if "kind" in frame.columns:
        kind = frame["kind"].str.strip().str.lower()
        _fail(frame, ~kind.isin(["", "product", "fee"]), report.source, "kind", "'product' or 'fee'")
        fee = (kind == "fee") | (fee & (kind != "product"))
    report.count("fee_lines", fee, frame)
    report.figures["fee_codes"] = int(frame.loc[fee, "sku"].nunique())
    return fee


def rule_sku_descriptions(frame: pd.DataFrame, report: ImportReport) -> None:
    """A SKU with several descriptions (counted per SKU, on the file as read): its title becomes the
    most frequent description of its kept lines, the others are remembered (see sku_titles)."""
    described = frame[per_value(frame["description"], lambda d: d.strip() != "").astype(bool)]
    several = described.groupby("sku")["description"].nunique()
    several = several[several > 1]
    report.rules["sku_several_descriptions"] = len(several)
    affected = described[described["sku"].isin(several.index)].drop_duplicates(["sku", "description"])
    if len(affected):
        report.samples["sku_several_descriptions"] = affected[["_line", "sku", "description"]].head(5).to_dict("records")


def sku_titles(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per SKU: sku, title (its most frequent normalised description; "" when no line of the
    file describes it, so the stored title is kept), other_titles."""
    described = frame[frame["title"] != ""]
    counts = described.groupby(["sku", "title"]).size().reset_index(name="n")
    counts = counts.sort_values(["sku", "n", "title"], ascending=[True, False, True])
    first = counts.drop_duplicates("sku")
    best = first.set_index("sku")["title"]
    others = counts.drop(index=first.index).groupby("sku")["title"].agg(sorted)
    titles = pd.DataFrame({"sku": frame["sku"].unique()})
    best, others = best.to_dict(), others.to_dict()
    titles["title"] = [best.get(sku, "") for sku in titles["sku"]]
    titles["other_titles"] = [others.get(sku, []) for sku in titles["sku"]]
    return titles


def rule_clip(frame: pd.DataFrame, column: str, width: int, report: ImportReport) -> pd.Series:
    """Free text longer than its column is cut to it: counted (`<column>_clipped`) and sampled."""
    values = frame[column].astype(str)
    report.count(f"{column}_clipped", values.str.len() > width, frame)
    return values.str.slice(0, width)


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
