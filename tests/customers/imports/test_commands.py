import io
import json

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer, ImportBatch, Order, Review
from tests.customers.imports.samples import write_retail

pytestmark = pytest.mark.django_db


def test_import_orders_command_prints_report(tmp_path):
    # given the sample file when import_orders runs then it prints the batch message and stores the orders
    out = io.StringIO()
    call_command("import_orders", str(write_retail(tmp_path / "s.csv.gz", gzipped=True)), "--no-progress", stdout=out)
    assert "Import batch #" in out.getvalue()
    assert Order.objects.filter(external_id="536365").exists()


def test_import_orders_with_column_options(tmp_path):
    # given a semicolon file with its own headers when mapped with --column options then it imports
    path = tmp_path / "other.csv"
    path.write_text("Bestellung;Artikel;Menge;Datum;Preis;Kunde\nB1;X1;2;01.05.2011 10:00;3,50;k1\n".replace("3,50", "3.50"))
    columns = ["order_id=Bestellung", "sku=Artikel", "quantity=Menge", "placed_at=Datum", "unit_price=Preis", "customer_id=Kunde"]
    args = [a for c in columns for a in ("--column", c)]
    call_command("import_orders", str(path), *args, "--delimiter", ";", "--date-format", "%d.%m.%Y %H:%M", "--no-progress", stdout=io.StringIO())
    order = Order.objects.get(external_id="B1")
    assert order.customer.external_id == "k1" and order.total == 7


def test_import_orders_with_mapping_file(tmp_path):
    # given a JSON mapping file when passed with --mapping then its columns and delimiter are used
    (tmp_path / "m.json").write_text(json.dumps({"columns": {"order_id": "o", "sku": "s", "quantity": "q", "placed_at": "d", "unit_price": "p"}, "delimiter": "|"}))
    (tmp_path / "f.csv").write_text("o|s|q|d|p\nZ1|S1|1|2011-02-03 04:05:06|9.99\n")
    call_command("import_orders", str(tmp_path / "f.csv"), "--mapping", str(tmp_path / "m.json"), "--no-progress", stdout=io.StringIO())
    assert Order.objects.get(external_id="Z1").customer is None


def test_import_command_bad_file_raises_command_error(tmp_path):
    # given a file without the required columns when imported then a CommandError names the file and line
    (tmp_path / "f.csv").write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match=r"f\.csv, line 1: missing required columns"):
        call_command("import_orders", str(tmp_path / "f.csv"), "--no-progress", stdout=io.StringIO())
    assert ImportBatch.objects.get().status == "failed"


def test_import_demo_data_imports_bundled_files_once(tmp_path):
    # given a data dir with small copies of both files when run twice then the second run skips both
    write_retail(tmp_path / "online_retail.csv.gz", gzipped=True)
    (tmp_path / "womens_clothing_reviews.csv.gz").write_bytes(
        __import__("gzip").compress(b"Clothing ID,Title,Review Text,Rating,Department Name,Class Name,Division Name\n7,Nice,Good fit,5,Tops,Knits,General\n"))
    call_command("import_demo_data", "--data-dir", str(tmp_path), stdout=io.StringIO(), stderr=io.StringIO())
    again = io.StringIO()
    call_command("import_demo_data", "--data-dir", str(tmp_path), stdout=again, stderr=io.StringIO())
    assert again.getvalue().count("already imported") == 2
    assert Review.objects.count() == 1
    assert Customer.objects.emailable().count() == 3
