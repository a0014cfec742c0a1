"""The scope permission and PII masking: keys pass their scopes, staff all, other users none."""
from __future__ import annotations

import pytest

from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_key_passes_only_its_scopes(key_client):
    # given a key with read:orders only, when it reads orders and customers, then 200 and 403 naming the missing scope
    client = key_client("read:orders")
    assert client.get("/api/v1/orders").status_code == 200
    refused = client.get("/api/v1/customers")
    assert refused.status_code == 403 and "read:customers" in refused.json()["detail"]


def test_method_missing_from_a_scope_dict_is_refused(key_client):
    # given a key with read:campaigns, when it creates a campaign (POST needs write:campaigns), then 403
    assert key_client("read:campaigns").get("/api/v1/campaigns").status_code == 200
    assert key_client("read:campaigns").post("/api/v1/campaigns", {}, format="json").status_code == 403


def test_non_staff_token_gets_nothing_and_staff_everything(member_client, api_client):
    # given a non-staff user's token and a staff token, when each reads customers and imports, then 403 for the first, 200 for staff
    CustomerFactory()
    assert member_client.get("/api/v1/customers").status_code == 403
    assert member_client.post("/api/v1/campaigns", {}, format="json").status_code == 403
    assert api_client.get("/api/v1/customers").status_code == 200
    assert api_client.get("/api/v1/imports").status_code == 200


def test_emails_and_names_are_masked_without_read_pii(key_client, api_client):
    # given a customer, when read with read:customers, with read:pii too, and by staff, then masked, clear, clear
    CustomerFactory(external_id="C1", email="jane.doe@example.com", name="Jane Doe")
    masked = key_client("read:customers").get("/api/v1/customers/C1").json()
    assert (masked["email"], masked["name"]) == ("j***@example.com", "J. D.")
    listed = key_client("read:customers").get("/api/v1/customers").json()["results"][0]
    assert listed["email"] == "j***@example.com"
    clear = key_client("read:customers", "read:pii").get("/api/v1/customers/C1").json()
    assert (clear["email"], clear["name"]) == ("jane.doe@example.com", "Jane Doe")
    assert api_client.get("/api/v1/customers/C1").json()["email"] == "jane.doe@example.com"


def test_events_import_needs_write_events(key_client):
    # given a customer and keys with write:imports and write:events, when each posts an event, then only write:events imports it
    CustomerFactory(external_id="C9")
    body = [{"customer_id": "C9", "kind": "view", "occurred_at": "2024-05-01T10:00:00Z", "external_id": "ev-1"}]
    assert key_client("write:imports").post("/api/v1/imports/events", body, format="json").status_code == 403
    created = key_client("write:events").post("/api/v1/imports/events", body, format="json")
    assert created.status_code == 201 and created.json()["status"] == "succeeded"


def test_a_method_the_route_lacks_is_405_not_403(key_client):
    # given a read-only route, when a key with its scope sends DELETE, then 405
    assert key_client("read:orders").delete("/api/v1/orders").status_code == 405
