import pytest
from django.urls import reverse

from customers.models import ImportBatch, Order, OrderLine
from tests.customers.imports.samples import retail_text

pytestmark = pytest.mark.django_db

RECORDS = [
    {"order_id": "A1", "sku": "S1", "description": "MUG", "quantity": 2, "placed_at": "2011-05-01T10:00:00", "unit_price": "3.50", "customer_id": "c9"},
    {"order_id": "A1", "sku": "S2", "description": "PLATE", "quantity": 1, "placed_at": "2011-05-01T10:00:00", "unit_price": "5.00", "customer_id": "c9"},
]


def test_post_json_records_twice_is_idempotent(api_client):
    # given two order records posted twice when stored then one order of two lines exists and the second batch is unchanged
    url = reverse("import-create", kwargs={"kind": "orders"})
    first = api_client.post(url, RECORDS, format="json")
    second = api_client.post(url, {"records": RECORDS}, format="json")
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["rows_created"] > 0
    assert second.json()["rows_created"] == 0 and second.json()["rows_updated"] == 0
    assert Order.objects.get(external_id="A1").total == 12
    assert OrderLine.objects.count() == 2


def test_post_csv_with_preset(api_client):
    # given the sample Online Retail CSV posted as text/csv when imported then the batch succeeds with rule counts
    url = reverse("import-create", kwargs={"kind": "orders"}) + "?preset=online_retail"
    response = api_client.post(url, data=retail_text().encode(), content_type="text/csv")
    body = response.json()
    assert response.status_code == 201
    assert body["status"] == "succeeded" and body["rule_counts"]["exact_duplicates"] == 1


def test_post_bad_csv_is_400_naming_line(api_client):
    # given a CSV with a bad quantity when posted then 400 names the line and the batch is failed
    url = reverse("import-create", kwargs={"kind": "orders"}) + "?preset=online_retail"
    response = api_client.post(url, data=retail_text().replace(",6,", ",six,", 1).encode(), content_type="text/csv")
    assert response.status_code == 400
    assert "line 2: quantity 'six'" in response.json()["detail"]
    assert ImportBatch.objects.get(pk=response.json()["batch"]).status == "failed"


def test_batches_are_listed_and_shown_to_staff_only(api_client, anon_client):
    # given one import when listed by staff and by an anonymous client then staff sees it, anonymous gets 401
    api_client.post(reverse("import-create", kwargs={"kind": "orders"}), RECORDS, format="json")
    batch = ImportBatch.objects.get()
    assert api_client.get(reverse("importbatch-list")).json()["results"][0]["id"] == batch.pk
    assert api_client.get(reverse("importbatch-detail", kwargs={"pk": batch.pk})).json()["entity_counts"]["orders"]["created"] == 1
    assert anon_client.get(reverse("importbatch-list")).status_code == 401


def test_unknown_kind_or_field_is_400(api_client):
    # given an unknown kind and an unknown field when posted then both are refused with 400
    assert api_client.post(reverse("import-create", kwargs={"kind": "bananas"}), RECORDS, format="json").status_code == 400
    response = api_client.post(reverse("import-create", kwargs={"kind": "orders"}), [{**RECORDS[0], "colour": "red"}], format="json")
    assert response.status_code == 400 and "colour" in response.json()["detail"]
