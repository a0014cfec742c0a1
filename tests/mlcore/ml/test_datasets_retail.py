"""The Online Retail loader's documented clean, on a tiny file."""
import pytest

from mlcore.ml.datasets_retail import load_online_retail

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
ROWS = [
    "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
    "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",  # exact duplicate
    "536366,POST,POSTAGE,1,2010-12-01 09:00:00,18.00,17850.0,United Kingdom",  # non-product
    "536367,22633,HAND WARMER,6,2010-12-01 09:10:00,0.00,17850.0,United Kingdom",  # zero price
    "536368,22633,HAND WARMER,6,2010-12-01 09:20:00,1.85,,United Kingdom",  # no customer
    "C536369,85123A,HEART,-2,2010-12-02 10:00:00,2.55,17850.0,United Kingdom",  # cancellation
]


def test_loader_applies_the_documented_clean(tmp_path):
    # given a file with each kind of dirt, when loaded, then one sale and one negative return line remain
    path = tmp_path / "retail.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n")
    lines = load_online_retail(path)
    assert lines["quantity"].tolist() == [6, -2]
    assert lines["amount"].tolist() == pytest.approx([15.3, -5.1])
    assert lines["status"].tolist() == ["placed", "cancelled"] and set(lines["customer_id"]) == {17850}


def test_loader_names_the_missing_column(tmp_path):
    # given a file without CustomerID, when loaded, then the error names the file and the column
    path = tmp_path / "bad.csv"
    path.write_text("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,Country\n1,A,1,2010-12-01 08:00:00,1.0,UK\n")
    with pytest.raises(ValueError, match="bad.csv: missing column.*CustomerID"):
        load_online_retail(path)
