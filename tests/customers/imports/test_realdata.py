"""The full Online Retail file and the English reviews, imported as the demo does."""
from decimal import Decimal

import pytest

from customers.imports.services import import_file
from customers.models import Customer, ImportBatch, Order, OrderLine, Product, Review
from tests.conftest import real_data_path
from tests.customers.imports.samples import HEADER

pytestmark = [pytest.mark.django_db, pytest.mark.realdata]


def _retail_slice(tmp_path, lines: int):
    import gzip
    with gzip.open(real_data_path("online-retail/online_retail.csv.gz"), "rt", encoding="utf-8") as handle:
        head = [next(handle) for _ in range(lines + 1)]
    assert head[0].strip() == HEADER
    path = tmp_path / "slice.csv"
    path.write_text("".join(head))
    return path


def test_real_slice_imports_and_reimports_unchanged(tmp_path):
    # given the first 5,000 real lines when imported twice then counts add up and the second run changes nothing
    path = _retail_slice(tmp_path, 5000)
    batch = ImportBatch.objects.get(pk=import_file(path=path, kind="orders", preset="online_retail"))
    assert batch.rows_read == 5000
    assert batch.rows_read == OrderLine.objects.count() + sum(v for k, v in batch.rule_counts.items() if k.startswith("dropped:"))
    assert OrderLine.objects.filter(quantity__lt=0, returned_line__isnull=False).exists()
    again = ImportBatch.objects.get(pk=import_file(path=path, kind="orders", preset="online_retail"))
    assert (again.rows_created, again.rows_updated) == (0, 0)


@pytest.mark.slow
def test_full_online_retail_matches_known_dirt_and_clean_figures():
    # given the full Online Retail file when imported then the report matches the data README and the tables the clean figures
    batch = ImportBatch.objects.get(pk=import_file(path=real_data_path("online-retail/online_retail.csv.gz"), kind="orders", preset="online_retail"))
    rules = batch.rule_counts
    assert (rules["guest_lines"], rules["missing_description"], rules["cancellations"]) == (135_080, 1_454, 9_288)
    assert (rules["non_positive_quantity"], rules["non_positive_price"], rules["exact_duplicates"]) == (10_624, 2_517, 5_268)
    assert rules["sku_several_descriptions"] == 650
    assert rules["extreme_quantity_undone"] == 4
    assert {"POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", "CRUK"} <= set(Product.objects.filter(kind="fee").values_list("sku", flat=True))
    sales = OrderLine.objects.filter(quantity__gt=0, order__customer__isnull=False)
    assert sales.count() == 392_692
    assert Customer.objects.filter(orders__lines__quantity__gt=0).distinct().count() == 4_338
    assert sales.values("product_id").distinct().count() == 3_665
    assert Order.objects.filter(customer__isnull=False, lines__quantity__gt=0).distinct().count() == 18_532
    assert batch.rows_read == OrderLine.objects.count() + sum(v for k, v in rules.items() if k.startswith("dropped:"))
    assert set(OrderLine.objects.filter(product__sku="PADS").values_list("unit_price", flat=True)) == {Decimal("0.001")}


def test_english_reviews_preset_on_real_file():
    # given the real English reviews when imported then every non-duplicate row is a review on a CLOTH- product
    batch = ImportBatch.objects.get(pk=import_file(path=real_data_path("reviews-en/womens_clothing_reviews.csv.gz"), kind="reviews", preset="reviews_en"))
    assert batch.rows_read == 18_810
    assert Review.objects.count() == 18_810 - batch.rule_counts["exact_duplicates"]
    assert Review.objects.filter(text="").count() == batch.rule_counts["review_without_text"] > 0
    assert Product.objects.filter(sku__startswith="CLOTH-").count() == Review.objects.values("product").distinct().count()
