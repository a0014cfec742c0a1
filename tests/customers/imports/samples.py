"""Small files in the Online Retail layout that hit every cleaning rule, for fast tests."""
from __future__ import annotations

import gzip
from pathlib import Path

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
LINES = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL  LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
    "536365,71053,WHITE METAL  LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",  # exact duplicate
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
    "536366,POST,POSTAGE,1,2010-12-01 08:28:00,18.00,17850.0,United Kingdom",  # fee
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,13047.0,EIRE",  # country
    "536368,85123A,CREAM HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:34:00,2.55,13047.0,EIRE",  # 2nd description
    "536369,21777,,-10,2010-12-01 16:50:00,0.0,,United Kingdom",  # zero price, no description, guest
    "536370,22728,ALARM CLOCK BAKELIKE PINK,24,2010-12-01 08:45:00,3.75,,France",  # guest sale
    "541431,23166,MEDIUM CERAMIC TOP STORAGE JAR,74215,2011-01-18 10:01:00,1.04,12346.0,United Kingdom",  # extreme
    "C541433,23166,MEDIUM CERAMIC TOP STORAGE JAR,-74215,2011-01-18 10:17:00,1.04,12346.0,United Kingdom",  # undone
    "C536379,22633,HAND WARMER UNION JACK,-2,2010-12-02 09:41:00,1.85,17850.0,United Kingdom",  # return of 536366
    "C536380,99999,UNKNOWN ITEM,-1,2010-12-02 09:41:00,1.00,17850.0,United Kingdom",  # unmatched return
]


def retail_text(lines: list[str] | None = None) -> str:
    return "\n".join([HEADER, *(LINES if lines is None else lines)]) + "\n"


def write_retail(path: Path, lines: list[str] | None = None, *, gzipped: bool = False) -> Path:
    data = retail_text(lines).encode()
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


# A grocery chain's export (the case): households, baskets, line totals in USD, epoch
# days, a department and brand per line; 30,080 units of fuel for $86.01.
GROCERY = (
    "BASKET_ID,household_key,PRODUCT_ID,QUANTITY,SALES_VALUE,DAY,DEPARTMENT,BRAND,COMMODITY\n"
    "B1,H1,6534178,30080,86.01,1700000000,FUEL,Private,GASOLINE-REG UNLEADED\n"
    "B1,H1,1004906,2,2.98,1700000000,PRODUCE,National,POTATOES\n"
    "B2,H2,1004906,1,1.39,1700086400,PRODUCE,National,POTATOES\n"
    "B2,H2,7001,3,1.00,1700086400,GROCERY,National,SODA\n"
)
GROCERY_MAPPING = {
    "columns": {"order_id": "BASKET_ID", "customer_id": "household_key", "sku": "PRODUCT_ID", "quantity": "QUANTITY",
                "line_total": "SALES_VALUE", "placed_at": "DAY", "category": "DEPARTMENT"},
    "date_format": "epoch", "currency": "USD", "attributes": {"brand": "BRAND", "commodity": "COMMODITY"},
}
