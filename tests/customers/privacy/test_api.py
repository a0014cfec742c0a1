"""GDPR through the API: export and erase jobs (202), their state, the download, the audit log;
and the PII read log written once per customer-list response."""
from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.api.privacy import CustomerEraseView, CustomerExportView, PrivacyRequestDetail, PrivacyRequestDownload
from customers.models import Customer
from customers.privacy.models import PiiAccess
from mlcore.models import CustomerScore

pytestmark = pytest.mark.django_db


def test_export_through_the_api_answers_202_then_the_file_downloads(api_client, demo, staff_user, django_capture_on_commit_callbacks):
    # given staff, when they ask for an export, read its state and download it, then the file is the customer's JSON and both steps are in the audit log
    with django_capture_on_commit_callbacks(execute=True):
        created = api_client.post("/api/v1/customers/DANA-1/export")
    assert created.status_code == 202
    state = api_client.get(f"/api/v1/privacy-requests/{created.json()['id']}").json()
    assert state["status"] == "succeeded" and state["result"]["orders"] == 1 and state["download_url"].endswith("/download")
    download = api_client.get(state["download_url"])
    document = json.loads(b"".join(download.streaming_content))
    assert download.status_code == 200 and download["Content-Type"] == "application/json"
    assert document["customer"]["external_id"] == "DANA-1" and len(document["campaigns"]["deliveries"]) == 1
    assert list(PiiAccess.objects.order_by("id").values_list("action", "actor", "route")) == [
        ("export", "user:staff", "/api/v1/customers/DANA-1/export"),
        ("export", "user:staff", f"/api/v1/privacy-requests/{state['id']}/download"),
    ]


def test_erase_through_the_api_reports_what_it_removed(api_client, demo, django_capture_on_commit_callbacks):
    # given staff, when they erase a customer, then the job's result lists the removed rows and the models to retrain, and the customer is anonymous
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/customers/DANA-1/erase")
    assert response.status_code == 202 and response.json()["kind"] == "erase"
    body = api_client.get(f"/api/v1/privacy-requests/{response.json()['id']}").json()
    assert body["status"] == "succeeded" and body["download_url"] is None
    assert body["result"]["removed"]["insights.scores"] == 1 and "churn v1" in body["result"]["needs_retraining"]
    assert Customer.objects.get(pk=demo.customer.pk).email == "" and not CustomerScore.objects.filter(customer=demo.customer).exists()
    assert PiiAccess.objects.get().action == "erase"
    assert api_client.post("/api/v1/customers/DANA-1/erase").status_code == 404  # the external id is gone with the rest


def test_anonymous_and_non_staff_callers_cannot_export_or_erase(anon_client, demo, django_user_model):
    # given no credentials or a non-staff token, when they post an erasure, then 401 / 403 and the customer is intact
    user = django_user_model.objects.create_user(username="plain", password="pw-plain-123")
    plain = APIClient()
    plain.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert anon_client.post("/api/v1/customers/DANA-1/erase").status_code == 401
    assert plain.post("/api/v1/customers/DANA-1/erase").status_code == 403
    assert Customer.objects.get(pk=demo.customer.pk).email == "dana-1@example.com"


def test_privacy_views_declare_the_write_privacy_scope():
    # given the scope convention, then every privacy view requires write:privacy
    assert {v.required_scopes for v in (CustomerExportView, CustomerEraseView, PrivacyRequestDetail, PrivacyRequestDownload)} == {"write:privacy"}


def test_a_customer_list_that_shows_pii_writes_one_audit_row(api_client, demo):
    # given two customers, when staff list customers and read one, then one audit row per response names the route and the customers shown
    assert api_client.get("/api/v1/customers/").status_code == 200
    assert api_client.get("/api/v1/customers/DANA-1/").status_code == 200
    listing, detail = PiiAccess.objects.order_by("id")
    assert (listing.action, listing.actor, listing.route, listing.customer_count) == ("read", "user:staff", "/api/v1/customers/", 2)
    assert detail.customer_ids == [demo.customer.pk]
    api_client.get("/api/v1/products/")
    assert PiiAccess.objects.count() == 2  # no PII shown, no row
