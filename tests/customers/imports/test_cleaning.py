import pandas as pd
import pytest

from customers.imports import cleaning
from customers.imports.orders import clean_orders
from customers.imports.readers import ImportFileError, layout_for, read_table
from customers.imports.report import ImportReport
from tests.customers.imports.samples import retail_text

RETAIL = layout_for(kind="orders", preset="online_retail")


def _clean(text=None):
    report = ImportReport()
    raw = read_table((text or retail_text()).encode(), source="s.csv", layout=RETAIL)
    frames = clean_orders(raw, RETAIL, report, shop_timezone="Europe/London", currency="GBP")
    return frames, report


def test_every_rule_counts_the_sample_file():
    # given the sample file with one case of each dirt when cleaned then each rule counts its lines
    _frames, report = _clean()
    assert report.rows_read == 13
    assert report.rules["guest_lines"] == 2
    assert report.rules["cancellations"] == 3
    assert report.rules["non_positive_quantity"] == 4
    assert report.rules["exact_duplicates"] == 1
    assert report.rules["non_positive_price"] == 1
    assert report.rules["missing_description"] == 1
    assert report.rules["fee_lines"] == 1
    assert report.rules["sku_several_descriptions"] == 1
    assert report.rules["extreme_quantity_undone"] == 2
    assert report.rules["country_standardised"] == 2
    assert report.dropped == {"exact_duplicates": 1, "zero_quantity": 0, "non_positive_price": 1}


def test_rows_read_equals_loaded_plus_dropped():
    # given the sample file when cleaned then every line read is loaded or dropped by a named rule
    frames, report = _clean()
    assert report.rows_read == len(frames.lines) + sum(report.dropped.values())


def test_guest_lines_are_kept_as_orders_without_customer():
    # given a guest sale when cleaned then its order exists with an empty customer and no customer row
    frames, _ = _clean()
    guest = frames.orders.set_index("external_id").loc["536370"]
    assert guest["customer_ext"] == ""
    assert "" not in set(frames.customers["external_id"])


def test_cancellation_is_a_cancelled_order_linked_to_the_sale():
    # given a return of a hand warmer bought earlier when cleaned then it points at that sale line
    frames, report = _clean()
    lines = frames.lines.set_index("order_ext")
    assert frames.orders.set_index("external_id").loc["C536379", "status"] == "cancelled"
    assert lines.loc["C536379", "returned_key"] == lines.loc["536366"].query("sku == '22633'")["source_key"].iloc[0]
    assert report.rules["returns_unmatched"] == 1


def test_fee_codes_become_fee_products():
    # given a POST line when cleaned then POST is a fee and hand warmers are products
    frames, _ = _clean()
    kinds = frames.products.set_index("sku")["kind"]
    assert kinds["POST"] == "fee"
    assert kinds["22633"] == "product"


def test_sku_keeps_most_frequent_title_and_remembers_others():
    # given 85123A written two ways (the first twice) when cleaned then the first wins, the other is kept
    text = retail_text() + "536371,85123A,WHITE HANGING HEART T-LIGHT HOLDER,1,2010-12-03 10:00:00,2.55,13047.0,EIRE\n"
    frames, _ = _clean(text)
    product = frames.products.set_index("sku").loc["85123A"]
    assert product["title"] == "White Hanging Heart T-Light Holder"
    assert product["other_titles"] == ["Cream Hanging Heart T-Light Holder"]


def test_title_case_keeps_mixed_case_words():
    # given shouted and mixed words when title-cased then only shouted words change, spaces collapse
    assert cleaning.title_case("  BAG 125g  SWIRLY MARBLES ") == "Bag 125g Swirly Marbles"


def test_countries_are_standardised():
    # given EIRE and Unspecified when standardised then they read Ireland and blank
    frame = pd.DataFrame({"country": ["EIRE", "Unspecified", "France"], "_line": [2, 3, 4]})
    assert list(cleaning.standardise_countries(frame, ImportReport())) == ["Ireland", "", "France"]


def test_timestamps_are_made_aware_in_shop_timezone():
    # given a summer time in London when parsed then it is stored an hour earlier in UTC
    frame = pd.DataFrame({"at": ["2011-06-01 10:00:00"], "_line": [2]})
    stamps = cleaning.parse_timestamps(frame, "at", "s.csv", date_format=None, dayfirst=False, shop_timezone="Europe/London")
    assert stamps.iloc[0] == pd.Timestamp("2011-06-01 09:00:00", tz="UTC")


def test_currency_is_recorded():
    # given a file without currency when cleaned then every order carries the shop currency
    frames, _ = _clean()
    assert set(frames.orders["currency"]) == {"GBP"}


def test_unparseable_number_names_the_line():
    # given a quantity of 'six' on line 3 when cleaned then the error names line 3 and the value
    text = retail_text().replace("WHITE METAL  LANTERN,6,", "WHITE METAL  LANTERN,six,", 1)
    with pytest.raises(ImportFileError, match=r"s\.csv, line 3: quantity 'six' is not a whole number"):
        _clean(text)


def test_unparseable_date_names_the_line():
    # given a date of 32/13/2010 on line 2 when cleaned then the error names line 2
    text = retail_text().replace("2010-12-01 08:26:00", "32/13/2010", 1)
    with pytest.raises(ImportFileError, match=r"s\.csv, line 2: placed_at '32/13/2010' is not a date/time"):
        _clean(text)


def test_quantity_times_price_past_the_amount_column_is_refused():
    # given 2 billion units at 9,999,999 each when cleaned then the line's amount is refused naming the line
    text = retail_text().replace("WHITE METAL  LANTERN,6,2010-12-01 08:26:00,3.39", "WHITE METAL  LANTERN,2000000000,2010-12-01 08:26:00,9999999", 1)
    with pytest.raises(ImportFileError, match=r"s\.csv, line 3: quantity × unit_price 1\.9999998e\+16 is not an amount the database can hold"):
        _clean(text)
