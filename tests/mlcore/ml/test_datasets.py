import gzip

import pandas as pd
import pytest

from mlcore.ml.datasets import category_from_title, load_online_retail, online_retail
from tests.conftest import real_data_path

RAW = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536366,POST,POSTAGE,1,2010-12-01 08:28:00,18.00,17850.0,United Kingdom
536367,71053,WHITE METAL LANTERN,2,2010-12-01 09:00:00,3.39,,United Kingdom
536368,71053,WHITE METAL LANTERN,3,2010-12-01 10:00:00,0.00,12583.0,France
536369,71053,WHITE METAL LANTERN,-5,2010-12-01 10:30:00,3.39,12583.0,France
C536370,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-02 09:00:00,2.55,17850.0,United Kingdom
536371,85123a,CREAM HANGING HEART,4,2011-06-01 12:00:00,2.95,12583.0,France
"""


@pytest.fixture
def raw_file(tmp_path):
    path = tmp_path / "retail.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(RAW)
    return path


def test_clean_keeps_sales_and_cancellations_and_drops_the_dirt(raw_file):
    # given duplicates, a postage line, a guest, a free line, a write-off and a cancellation, when loaded, then only sales and the return stay
    lines = load_online_retail(raw_file)
    assert list(lines["quantity"]) == [6, 6, -2, 4]
    assert list(lines["status"]) == ["placed", "placed", "returned", "placed"]
    assert lines["amount"].sum() == pytest.approx(15.3 + 20.34 - 5.1 + 11.8)


def test_products_get_one_id_and_description_per_stock_code(raw_file):
    # given the same stock code in two cases with two descriptions, when loaded, then one product id and the commoner description
    lines = load_online_retail(raw_file)
    heart = lines[lines["sku"] == "85123A"]
    assert heart["product_id"].nunique() == 1
    assert set(heart["description"]) == {"WHITE HANGING HEART T-LIGHT HOLDER"}
    assert set(lines["category"]) == {"HOLDER", "LANTERN"}


def test_times_are_utc_and_orders_are_numbered(raw_file):
    # given London winter times, when loaded, then placed_at is the same instant in UTC and orders are distinct ids
    lines = load_online_retail(raw_file)
    assert lines["placed_at"].iloc[0] == pd.Timestamp("2010-12-01 08:26", tz="UTC")
    assert lines["placed_at"].iloc[-1] == pd.Timestamp("2011-06-01 11:00", tz="UTC")  # BST is UTC+1
    assert lines["order_id"].nunique() == 3


def test_missing_column_is_named(tmp_path):
    # given a file without CustomerID, when loaded, then the error names the file and the column
    path = tmp_path / "bad.csv"
    path.write_text("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,Country\n")
    with pytest.raises(ValueError, match="bad.csv: missing column.*CustomerID"):
        load_online_retail(path)


@pytest.mark.realdata
@pytest.mark.slow
def test_real_file_lands_near_the_published_clean_counts():
    # given the real Online Retail file, when cleaned, then sale lines, customers and products are near the README's figures
    lines = load_online_retail(real_data_path("online-retail/online_retail.csv.gz"))
    sales = lines[lines["quantity"] > 0]
    assert 385_000 < len(sales) < 395_000
    assert 4_300 < sales["customer_id"].nunique() < 4_400
    assert 3_600 < sales["product_id"].nunique() < 3_700


def test_category_is_the_last_word_of_the_title():
    # given product titles, when categorised, then the last word (singular) names the category
    assert category_from_title(pd.Series(["WHITE T-LIGHT HOLDER", "JUMBO BAGS", None])).tolist() == ["HOLDER", "BAG", "OTHER"]


def test_recommender_view_has_sales_only_and_one_product_row_per_sku(raw_file):
    # given a file with a cancellation, when read as (lines, products), then only sales and one product per SKU
    lines, products = online_retail(raw_file)
    assert (lines["quantity"] > 0).all()
    assert len(products) == lines["product_id"].nunique() == 2
    assert set(products["title"]) == {"WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN"}
