"""GDPR export and erasure of a demo customer with a row in every table, beside a neighbour."""
from __future__ import annotations

import pytest
from django.test import RequestFactory

from campaigns.models import Delivery, DeliveryEvent, Suppression
from customers.models import ConsentChange, Customer, Event, Order, Review
from customers.privacy import registry, services
from customers.privacy.models import PiiAccess, PrivacyRequest
from customers.selectors import customers_frame, order_lines_frame, reviews_frame
from customers.webhooks.models import WebhookDelivery, WebhookSubscription
from mlcore.features.selectors import review_signals_frame
from mlcore.models import (
    CustomerFeatures,
    CustomerScore,
    ModelVersion,
    RecommendationList,
    ReviewAlert,
    ReviewAspect,
    ReviewSentiment,
    SegmentMembership,
)

pytestmark = pytest.mark.django_db


def _derived(customer_id: int) -> dict[str, int]:
    return {
        "scores": CustomerScore.objects.filter(customer_id=customer_id).count(),
        "memberships": SegmentMembership.objects.filter(customer_id=customer_id).count(),
        "recommendations": RecommendationList.objects.filter(customer_id=customer_id).count(),
        "features": CustomerFeatures.objects.filter(customer_id=customer_id).count(),
        "sentiments": ReviewSentiment.objects.filter(review__customer_id=customer_id).count(),
        "aspects": ReviewAspect.objects.filter(review__customer_id=customer_id).count(),
        "alerts": ReviewAlert.objects.filter(customer_id=customer_id).count(),
        "events": Event.objects.filter(customer_id=customer_id).count(),
        "delivery_events": DeliveryEvent.objects.filter(delivery__customer_id=customer_id).count(),
    }


def test_the_export_holds_every_section_of_the_customer_and_nothing_of_the_neighbour(demo):
    # given a customer with rows everywhere, when exported, then each section holds their rows and none of the neighbour's
    doc = services.customer_export_document(customer_id=demo.customer.pk)
    assert doc["customer"]["email"] == "dana-1@example.com" and doc["customer"]["name"] == "Dana Scully"
    assert [c["source"] for c in doc["consent_history"]] == ["unsubscribe"]
    assert len(doc["orders"]) == 1 and [line["quantity"] for line in doc["orders"][0]["lines"]] == [2, 1]
    assert doc["reviews"][0]["text"].startswith("Dana Scully here")
    assert doc["events"][0]["properties"] == {"ip": "192.0.2.7"}
    insights, campaigns = doc["insights"], doc["campaigns"]
    assert {k: len(v) for k, v in insights.items()} == {
        "scores": 1, "segment_memberships": 1, "recommendations": 2, "feature_rows": 1, "review_sentiments": 1, "review_aspects": 1, "review_alerts": 1}
    assert insights["scores"][0]["model_version__kind"] == "churn" and insights["segment_memberships"][0]["segment__key"] == "champions"
    assert {k: len(v) for k, v in campaigns.items()} == {"deliveries": 1, "delivery_events": 2, "conversions": 1, "suppressions": 1}
    assert campaigns["deliveries"][0]["email"] == "dana-1@example.com"
    assert "Fox" not in str(doc) and "fox-2" not in str(doc)
    assert doc["export"]["sections"]["orders"] == 1
    assert doc["export"]["sections"]["campaigns"] == {"deliveries": 1, "delivery_events": 2, "conversions": 1, "suppressions": 1}


def test_erasure_wipes_pii_deletes_derived_rows_and_lists_models_to_retrain(demo):
    # given the demo customer, when erased, then PII and texts are gone, derived rows deleted, the right model versions marked, the neighbour untouched
    before_neighbour = _derived(demo.neighbour.pk)
    subscription = WebhookSubscription.objects.create(name="p", url="https://partner.example.com/h", secret="s", events=["segment.entered"])
    listed = {"customers": {"count": 2, "external_ids": ["DANA-1", "FOX-2"], "truncated": False}}
    delivery = WebhookDelivery.objects.create(subscription=subscription, event="segment.entered", payload=listed)
    result = services.customer_erase(customer_id=demo.customer.pk)
    dana = Customer.objects.get(pk=demo.customer.pk)
    assert (dana.email, dana.name, dana.country, dana.external_id) == ("", "", "", f"erased-{dana.pk}")
    assert dana.erased_at is not None and not dana.email_consent
    assert list(Review.objects.filter(customer=dana).values_list("title", "text", "rating")) == [("", "", 1)]
    assert set(_derived(dana.pk).values()) == {0}
    assert Delivery.objects.get(customer=dana).email == "" and not Suppression.objects.filter(email="dana-1@example.com").exists()
    assert Order.objects.filter(customer=dana).count() == 1 and ConsentChange.objects.filter(customer=dana).count() == 1  # kept
    assert result["removed"] == {
        "campaigns.delivery_events": 2, "campaigns.suppressions": 1, "campaigns.deliveries.address_wiped": 1,
        "insights.scores": 1, "insights.segment_memberships": 1, "insights.recommendations": 2, "insights.feature_rows": 1,
        "insights.review_sentiments": 1, "insights.review_aspects": 1, "insights.review_alerts": 1,
        "customer.pii_fields": 4, "reviews.texts_removed": 1, "events": 1, "webhook_payloads.scrubbed": 1,
    }
    delivery.refresh_from_db()
    assert delivery.payload["customers"]["external_ids"] == [f"erased-{dana.pk}", "FOX-2"]
    assert result["needs_retraining"] == sorted(f"{v.kind} v{v.version}" for v in demo.trained_on_them)
    assert all(ModelVersion.objects.get(pk=v.pk).needs_retraining for v in demo.trained_on_them)
    assert not any(ModelVersion.objects.get(pk=v.pk).needs_retraining for v in demo.not_trained_on_them)
    assert _derived(demo.neighbour.pk) == before_neighbour
    assert Customer.objects.get(pk=demo.neighbour.pk).email == "fox-2@example.com"


def test_erasing_twice_changes_nothing_more(demo):
    # given an erased customer, when erased again, then nothing further is removed and the erasure time stays
    first = services.customer_erase(customer_id=demo.customer.pk)
    second = services.customer_erase(customer_id=demo.customer.pk)
    assert second["erased_at"] == first["erased_at"]
    assert second["removed"] == dict.fromkeys(first["removed"], 0)


def test_training_set_selectors_leave_out_erased_customers_but_keep_guests(demo):
    # given an erased customer and a guest order, when the training frames are read, then the erased customer is in none of them and the guest line stays
    from tests.customers.factories import OrderLineFactory

    OrderLineFactory(order__customer=None)
    services.customer_erase(customer_id=demo.customer.pk)
    assert demo.customer.pk not in set(order_lines_frame(with_guests=True)["customer_id"].dropna())
    assert order_lines_frame(with_guests=True)["customer_id"].isna().sum() == 1
    assert demo.customer.pk not in set(customers_frame()["customer_id"])
    assert demo.customer.pk not in set(reviews_frame()["customer_id"].dropna())
    assert demo.customer.pk not in set(review_signals_frame()["customer_id"])
    assert demo.neighbour.pk in set(order_lines_frame()["customer_id"]) and demo.neighbour.pk in set(review_signals_frame()["customer_id"])


def _request(user, path="/api/v1/customers/DANA-1/erase", method="post"):
    request = getattr(RequestFactory(), method)(path)
    request.user = user
    return request


def test_a_request_job_runs_once_records_the_result_and_its_audit_row(demo, staff_user, django_capture_on_commit_callbacks):
    # given staff asking for an export, when the job runs (and is run again), then one file is written, the result counts the sections, and the audit log names staff
    with django_capture_on_commit_callbacks(execute=True):
        job = services.privacy_request_create(kind="export", customer_id=demo.customer.pk, request=_request(staff_user))
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result["orders"] == 1 and job.file_name.endswith(".json")
    assert services.privacy_request_run(request_id=job.pk) == "skipped"
    assert b"Dana Scully" in services.privacy_export_open(request_id=job.pk).read()
    [audit] = PiiAccess.objects.all()
    assert (audit.action, audit.actor, audit.user_id, audit.customer_ids) == ("export", "user:staff", staff_user.pk, [demo.customer.pk])


def test_a_failing_erasure_is_marked_failed_and_rolls_back(demo, staff_user, django_capture_on_commit_callbacks):
    # given a provider that breaks mid-erasure, when the erasure runs, then the request is failed with the reason and nothing was erased
    def broken(customer_id):
        raise RuntimeError("support tables are offline")

    registry.register_privacy_provider("zz_broken", export=lambda customer_id: [], erase=broken)
    try:
        with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
            job = services.privacy_request_create(kind="erase", customer_id=demo.customer.pk, request=_request(staff_user))
    finally:
        registry._PROVIDERS.pop("zz_broken")
    job = PrivacyRequest.objects.get()
    assert job.status == "failed" and "support tables are offline" in job.error
    assert Customer.objects.get(pk=demo.customer.pk).email == "dana-1@example.com"
    assert CustomerScore.objects.filter(customer=demo.customer).exists()


def test_a_later_app_adds_its_section_to_export_and_erasure(demo):
    # given a provider registered by a later app (support conversations), when exported and erased, then its section and counts appear
    notes = {demo.customer.pk: ["Where is my parcel?", "Thanks!"]}
    registry.register_privacy_provider(
        "support_conversations", export=lambda cid: list(notes.get(cid, [])),
        erase=lambda cid: registry.ErasureReport(removed={"conversations": len(notes.pop(cid, []))}))
    try:
        assert services.customer_export_document(customer_id=demo.customer.pk)["support_conversations"] == ["Where is my parcel?", "Thanks!"]
        assert services.customer_erase(customer_id=demo.customer.pk)["removed"]["support_conversations.conversations"] == 2
    finally:
        registry._PROVIDERS.pop("support_conversations")


def test_pii_access_record_names_an_api_key_by_its_prefix(staff_user):
    # given a request authenticated by an API key object with a prefix, when recorded, then the actor is the key
    request = _request(staff_user, path="/api/v1/customers/", method="get")
    request.auth = type("Key", (), {"prefix": "clm_ab12"})()
    row = services.pii_access_record_request(request=request, action="read", customer_ids=[3, 1, 3])
    assert (row.actor, row.api_key, row.customer_count, row.customer_ids, row.route) == ("key:clm_ab12", "clm_ab12", 2, [1, 3], "/api/v1/customers/")
