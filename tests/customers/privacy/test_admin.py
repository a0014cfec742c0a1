"""GDPR from the admin: export action and download, erase action behind a confirmation page."""
from __future__ import annotations

import pytest

from customers.models import Customer
from customers.privacy.models import PiiAccess, PrivacyRequest

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/customers/customer/"


def test_export_action_queues_a_job_whose_file_downloads_from_the_request_log(admin_user_client, demo, django_capture_on_commit_callbacks):
    # given staff on the customer list, when they export one customer and open the request log, then the job succeeded and its JSON downloads
    with django_capture_on_commit_callbacks(execute=True):
        admin_user_client.post(CHANGELIST, {"action": "gdpr_export", "_selected_action": [demo.customer.pk]})
    job = PrivacyRequest.objects.get()
    log = admin_user_client.get("/admin/customers/privacyrequest/")
    download = admin_user_client.get(f"/admin/customers/privacyrequest/{job.pk}/download/")
    assert job.status == "succeeded" and b"download JSON" in log.content
    assert b"Dana Scully" in b"".join(download.streaming_content)
    assert list(PiiAccess.objects.values_list("action", flat=True)) == ["export", "export"]


def test_erase_action_asks_to_confirm_then_erases(admin_user_client, demo, django_capture_on_commit_callbacks):
    # given staff selecting a customer, when they choose erase, then a confirmation page comes first and only the confirmed post erases
    first = admin_user_client.post(CHANGELIST, {"action": "gdpr_erase", "_selected_action": [demo.customer.pk]})
    assert first.status_code == 200 and b"cannot be undone" in first.content and not PrivacyRequest.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        admin_user_client.post(CHANGELIST, {"action": "gdpr_erase", "_selected_action": [demo.customer.pk], "confirm": "yes"})
    job = PrivacyRequest.objects.get()
    assert job.kind == "erase" and job.status == "succeeded" and job.requested_by == "user:root"
    assert Customer.objects.get(pk=demo.customer.pk).name == ""
    assert admin_user_client.get(f"/admin/customers/privacyrequest/{job.pk}/change/").status_code == 200
    assert admin_user_client.get("/admin/customers/piiaccess/").status_code == 200


def test_staff_viewing_customers_in_the_admin_is_in_the_pii_log(admin_user_client, demo):
    # given two customers, when staff open the customer list and one customer's page, then each page view is one audit row naming staff and the customers shown
    assert admin_user_client.get(CHANGELIST).status_code == 200
    assert admin_user_client.get(f"{CHANGELIST}{demo.customer.pk}/change/").status_code == 200
    listing, page = PiiAccess.objects.order_by("id")
    assert (listing.actor, listing.action, listing.customer_count) == ("user:root", "read", 2)
    assert page.customer_ids == [demo.customer.pk] and page.route == f"{CHANGELIST}{demo.customer.pk}/change/"
