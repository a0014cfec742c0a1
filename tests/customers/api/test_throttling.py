"""Request limits per key and per user, their RateLimit headers, and the admin login lockout."""
from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from customers.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_an_hour(settings):
    cache.clear()
    rates = {"key": "3/hour", "user": "5/hour", "anon": "2/hour"}  # hour windows: a test never straddles one
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    yield
    cache.clear()


def test_key_is_limited_with_headers_and_retry_after(three_an_hour, key_client):
    # given a key limited to 3 an hour, when it sends 4 requests, then headers count down and the 4th gets 429 with Retry-After
    client = key_client("read:orders")
    answers = [client.get("/api/v1/orders") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0]["RateLimit-Limit"] == "3" and 0 < int(answers[0]["RateLimit-Reset"]) <= 3600
    assert 0 < int(answers[3]["Retry-After"]) <= 3600


def test_each_key_has_its_own_budget_and_users_theirs(three_an_hour, key_client, api_client):
    # given one key spent, when another key and a staff token call, then they still pass under their own limits
    spent = key_client("read:orders")
    for _ in range(3):
        spent.get("/api/v1/orders")
    assert spent.get("/api/v1/orders").status_code == 429
    assert key_client("read:orders").get("/api/v1/orders").status_code == 200
    staff = api_client.get("/api/v1/orders")
    assert staff.status_code == 200 and staff["RateLimit-Limit"] == "5"


def test_api_rate_limit_setting_applies_to_user_tokens(settings, api_client):
    # given API_RATE_LIMIT-style "user" rate of 2/hour, when a token calls 3 times, then the third is refused
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "2/hour", "key": "2/hour", "anon": "2/hour"}}
    assert [api_client.get("/api/v1/products").status_code for _ in range(3)] == [200, 200, 429]
    cache.clear()


def test_admin_login_locks_out_after_repeated_failures(client, staff_user, settings):
    # given a staff user, when AXES_FAILURE_LIMIT wrong passwords are tried, then the right one is refused too
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        wrong = client.post("/admin/login/?next=/admin/", {"username": "staff", "password": "wrong"})
        assert "_auth_user_id" not in client.session and wrong.status_code in (200, 429)
    right = client.post("/admin/login/?next=/admin/", {"username": "staff", "password": "pw-staff-123"})
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_admin_login_works_before_the_limit(client, staff_user):
    # given a staff user, when one wrong then the right password is sent, then the login succeeds
    client.post("/admin/login/?next=/admin/", {"username": "staff", "password": "wrong"})
    client.post("/admin/login/?next=/admin/", {"username": "staff", "password": "pw-staff-123"})
    assert client.get("/admin/").status_code == 200


def test_anonymous_calls_are_limited_per_address(three_an_hour, client):
    # given 2 anonymous calls an hour, when the public schema is fetched three times, then the third is refused
    assert [client.get("/api/schema/").status_code for _ in range(3)] == [200, 200, 429]


def test_the_counter_is_one_cache_entry_per_window(three_an_hour, key_client):
    # given a key, when it calls twice, then its window holds one counter of 2 (no per-request log)
    client = key_client("read:orders")
    client.get("/api/v1/orders")
    client.get("/api/v1/orders")
    key = ApiKey.objects.get()
    window = int(time.time() // 3600)
    assert cache.get(f"clm:throttle:key:{key.pk}:3600:{window}") == 2
