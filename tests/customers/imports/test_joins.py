"""Joined imports: several export files -> the one table the ordinary import reads."""
import gzip

import pytest
import yaml

from customers.imports.joined import import_joined
from customers.imports.joins import JoinSpecError, joined_table
from customers.models import Customer, ImportBatch, OrderLine, Product


def write(folder, name: str, text: str) -> None:
    with gzip.open(folder / name, "wt", encoding="utf-8") as handle:
        handle.write(text)


@pytest.fixture
def export(tmp_path):
    """Olist-shaped: items name the order, the order a per-order customer id, the customer file the person."""
    write(tmp_path, "items.csv.gz", "order_id,order_item_id,product_id,price\nA,1,P1,10.5\nA,2,P1,10.5\nA,3,P2,3\nB,1,P1,10.5\nC,1,P2,3\n")
    write(tmp_path, "orders.csv.gz", "order_id,customer_id,status,ts\nA,c1,delivered,2018-01-02 10:00:00\nB,c2,delivered,2018-02-03 11:00:00\nC,c3,canceled,2018-02-04 12:00:00\n")
    write(tmp_path, "people.csv.gz", "customer_id,person\nc1,U1\nc2,U1\nc3,U2\n")
    spec = {"base": "items.csv.gz", "merge": [{"file": "orders.csv.gz", "key": "order_id"}, {"file": "people.csv.gz", "key": "customer_id"}],
            "keep": {"status": ["delivered"]}, "constants": {"country": "Brazil"}, "count_as": "n"}
    columns = {"order_id": "order_id", "sku": "product_id", "quantity": "n", "placed_at": "ts", "unit_price": "price", "customer_id": "person", "country": "country"}
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml.safe_dump({"kind": "orders", "join": spec, "columns": columns, "currency": "BRL"}))
    return tmp_path, spec, columns, mapping


def test_identical_items_collapse_into_one_counted_line_after_the_join(export):
    # given two items of one product in an order and a cancelled order, when joined, then one line counts 2 and the cancelled order is gone
    folder, spec, columns, _ = export
    table = joined_table(spec, folder, columns=list(columns.values()))
    assert sorted(zip(table["order_id"], table["product_id"], table["n"], table["person"], strict=True)) == [
        ("A", "P1", "2", "U1"), ("A", "P2", "1", "U1"), ("B", "P1", "1", "U1")]


def test_a_repeating_merge_key_is_refused_unless_the_first_row_is_asked_for(export):
    # given a merge on a key that repeats in the other file, when joined, then it is refused with the remedy named
    folder, spec, columns, _ = export
    with pytest.raises(JoinSpecError, match="first: true"):
        joined_table({**spec, "merge": [{"file": "items.csv.gz", "key": "order_id"}]}, folder)
    assert len(joined_table({"base": "orders.csv.gz", "merge": [{"file": "items.csv.gz", "key": "order_id", "first": True}]}, folder)) == 3


@pytest.mark.django_db
def test_a_joined_mapping_imports_through_the_ordinary_importer(export):
    # given the mapping file, when imported, then one person with two orders, counted quantities and the mapping's currency
    folder, _, _, mapping = export
    batch = ImportBatch.objects.get(pk=import_joined(mapping_path=mapping, folder=folder))
    assert batch.status == ImportBatch.Status.SUCCEEDED and Customer.objects.get().external_id == "U1"
    assert sorted(OrderLine.objects.values_list("order__external_id", "product__sku", "quantity")) == [("A", "P1", 2), ("A", "P2", 1), ("B", "P1", 1)]
    assert set(OrderLine.objects.values_list("order__currency", flat=True)) == {"BRL"} and Product.objects.count() == 2
