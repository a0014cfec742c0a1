import pandas as pd
import pytest

from mlcore.ml.datasets import category_from_title, clean_online_retail, online_retail
from tests.conftest import real_data_path


def raw_lines() -> pd.DataFrame:
    rows = [
        ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "12/1/2010 8:26", 2.55, 17850.0, "United Kingdom"),
        ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "12/1/2010 8:26", 2.55, 17850.0, "United Kingdom"),  # duplicate
        ("C536379", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", -1, "12/1/2010 9:41", 2.55, 17850.0, "United Kingdom"),
        ("536366", "POST", "POSTAGE", 1, "12/1/2010 9:00", 18.0, 12583.0, "France"),
        ("536367", "22633", "HAND WARMER UNION JACK", 6, "12/1/2010 9:02", 1.85, None, "United Kingdom"),
        ("536368", "22632", "HAND WARMER RED POLKA DOT", 6, "12/1/2010 9:03", 0.0, 13047.0, "United Kingdom"),
        ("536369", "84029G", "KNITTED UNION FLAG HOT WATER BOTTLE", 6, "12/1/2010 9:04", 3.39, 13047.0, "United Kingdom"),
    ]
    return pd.DataFrame(rows, columns=["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"])


def test_clean_drops_each_kind_of_dirt():
    # given one good line and one of each known dirt, when cleaned, then two sale lines remain
    cleaned = clean_online_retail(raw_lines())
    assert sorted(cleaned["StockCode"]) == ["84029G", "85123A"]


def test_category_is_the_last_word_of_the_title():
    # given product titles, when categorised, then the last word (singular) names the category
    assert category_from_title(pd.Series(["WHITE T-LIGHT HOLDER", "JUMBO BAGS", None])).tolist() == ["HOLDER", "BAG", "OTHER"]


@pytest.mark.realdata
@pytest.mark.slow
def test_real_file_loads_with_order_lines_frame_columns():
    # given the shared Online Retail file, when loaded, then it has the platform's columns and about the published size
    lines, products = online_retail(real_data_path("online-retail/online_retail.csv.gz"))
    assert {"customer_id", "order_id", "placed_at", "product_id", "sku", "quantity", "unit_price", "amount", "country", "category"} <= set(lines.columns)
    assert 385_000 < len(lines) < 395_000 and 4_300 < lines["customer_id"].nunique() < 4_400
    assert len(products) == lines["product_id"].nunique() and (lines["quantity"] > 0).all()
