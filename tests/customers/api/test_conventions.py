"""The API's conventions: slashes, JSON errors, strict query parameters, cursors, dates."""
from __future__ import annotations

import pytest

from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_routes_answer_with_and_without_trailing_slash_and_posts_never_500(api_client):
    # given customers, when a list and a sub-resource are read with and without a slash and a POST is sent both ways, then no 404/500
    CustomerFactory(external_id="C1")
    assert api_client.get("/api/v1/customers").status_code == api_client.get("/api/v1/customers/").status_code == 200
    assert api_client.get("/api/v1/customers/C1/segments").status_code == api_client.get("/api/v1/customers/C1/segments/").status_code == 200
    for path in ("/api/v1/sentiment", "/api/v1/sentiment/"):
        assert api_client.post(path, {"texts": []}, format="json").status_code == 400


def test_unknown_route_answers_json_404(api_client, admin_user_client):
    # given the API, when an unknown route is asked for (GET, POST, and POST from a session without a CSRF token), then a JSON 404
    admin_user_client.handler.enforce_csrf_checks = True
    responses = [api_client.get("/api/v1/nothing-here"), api_client.post("/api/v1/nothing/here/", {}, format="json"),
                 admin_user_client.post("/api/v1/imports/\u00b5x", {})]
    for response in responses:
        assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_unknown_filter_and_ordering_answer_400_naming_the_allowed(api_client):
    # given the customer list, when an unknown filter and an unknown ordering are sent, then 400 listing what is allowed
    unknown = api_client.get("/api/v1/customers", {"colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["detail"] and "first_seen_after" in unknown.json()["detail"]
    ordering = api_client.get("/api/v1/customers", {"ordering": "-email"})
    assert ordering.status_code == 400 and "first_seen" in ordering.json()["ordering"]
    assert api_client.get("/api/v1/customers", {"ordering": "-first_seen"}).status_code == 200
    assert api_client.get("/api/v1/at-risk", {"colour": "red"}).status_code == 400


def test_bad_cursor_and_page_size_answer_400(api_client):
    # given the customer list, when a garbage cursor, a forged cursor position and bad page sizes are sent, then 400 each
    CustomerFactory()
    assert api_client.get("/api/v1/customers", {"cursor": "not-a-cursor"}).status_code == 400
    assert api_client.get("/api/v1/customers", {"cursor": "cD1hYmM="}).status_code == 400  # p=abc
    for size in ("0", "-1", "abc", "501"):
        assert api_client.get("/api/v1/customers", {"page_size": size}).status_code == 400


@pytest.mark.parametrize("value", ["2020-01-01T00:00:00-17:32", "2020-01-01T00:00:00+24:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00", "2020-13-01"])
def test_unrepresentable_dates_answer_400(api_client, value):
    # given the customer list, when a date-time filter cannot be represented, then 400 (it was a 500)
    response = api_client.get("/api/v1/customers", {"first_seen_after": value})
    assert response.status_code == 400 and "first_seen_after" in response.json()


def test_order_date_filters_are_safe_too(api_client):
    # given the order list, when placed_after has an out-of-range offset, then 400
    assert api_client.get("/api/v1/orders", {"placed_after": "2020-01-01T00:00:00-17:32"}).status_code == 400
