"""import.finished: every import batch, succeeded or failed, is announced once."""
import pytest

from customers.imports.readers import ImportFileError
from customers.imports.services import import_bytes
from tests.conftest import emitted

pytestmark = pytest.mark.django_db
CSV = b"order_id,sku,description,quantity,placed_at,unit_price,customer_id\nA1,S1,MUG,2,2011-05-01T10:00:00,3.50,c9\n"
MAPPING = {"columns": {f: f for f in ["order_id", "sku", "description", "quantity", "placed_at", "unit_price", "customer_id"]}}


def test_a_succeeded_and_a_failed_import_each_emit_import_finished(webhook_subscriber):
    # given a subscriber, when one good and one unreadable file are imported, then two import.finished events carry their batch status and counts
    batch_id = import_bytes(data=CSV, source_name="good.csv", kind="orders", mapping=MAPPING)
    with pytest.raises(ImportFileError):
        import_bytes(data=b"nothing,useful\n1,2\n", source_name="bad.csv", kind="orders", mapping=MAPPING)
    good, bad = emitted("import.finished")
    assert good["batch_id"] == batch_id and good["status"] == "succeeded" and good["rows_created"] > 0 and good["kind"] == "orders"
    assert bad["status"] == "failed" and bad["source_name"] == "bad.csv" and bad["error"]


def test_no_subscriber_no_delivery_rows():
    # given no subscription, when a file is imported, then no delivery is recorded
    import_bytes(data=CSV, source_name="good.csv", kind="orders", mapping=MAPPING)
    assert emitted("import.finished") == []
