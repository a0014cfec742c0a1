"""API keys: hashed storage, the Bearer / Api-Key header, revoke, expiry, last use, the admin."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers.api.keys import api_key_create, api_key_revoke
from customers.models import ApiKey

pytestmark = pytest.mark.django_db


def _client(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_key_is_stored_hashed_and_works_with_both_header_forms():
    # given a new key, when it is stored and sent as Bearer and as Api-Key, then no row holds the secret and both answer 200
    key, full = api_key_create(name="partner", scopes=["read:customers"])
    prefix, secret = full.split(".", 1)
    row = ApiKey.objects.values().get(pk=key.pk)
    assert row["prefix"] == prefix and secret not in str(row) and len(row["secret_hash"]) == 64
    assert _client(f"Bearer {full}").get("/api/v1/customers").status_code == 200
    assert _client(f"Api-Key {full}").get("/api/v1/customers").status_code == 200
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_wrong_revoked_and_expired_keys_get_401():
    # given a live, a revoked and an expired key, when each (and a wrong secret) is sent, then only the live one passes
    live, full = api_key_create(name="live", scopes=["read:customers"])
    revoked, revoked_full = api_key_create(name="gone", scopes=["read:customers"])
    _, expired_full = api_key_create(name="old", scopes=["read:customers"], expires_at=timezone.now() - timedelta(minutes=1))
    assert api_key_revoke(key_ids=[revoked.pk]) == 1
    assert _client(f"Bearer {full}").get("/api/v1/customers").status_code == 200
    assert _client(f"Bearer {live.prefix}.not-the-secret").get("/api/v1/customers").status_code == 401
    assert _client(f"Bearer {revoked_full}").get("/api/v1/customers").status_code == 401
    assert _client(f"Bearer {expired_full}").get("/api/v1/customers").status_code == 401


def test_unknown_scope_is_refused():
    # given a made-up scope, when a key is created with it, then ValueError names it
    with pytest.raises(ValueError, match="read:everything"):
        api_key_create(name="bad", scopes=["read:everything"])


def test_admin_shows_the_secret_once_lists_prefix_and_revokes(admin_user_client):
    # given the admin, when a key is created, listed and revoked, then the full key shows once, the list shows prefix and scopes, revoke works
    response = admin_user_client.post(
        "/admin/customers/apikey/add/", {"name": "CRM sync", "scopes": ["read:customers", "read:orders"], "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    key = ApiKey.objects.get(name="CRM sync")
    page = response.content.decode()
    assert f"{key.prefix}." in page and "will not be shown again" in page
    full = page.split(f"{key.prefix}.", 1)[1].split(" ", 1)[0]
    assert _client(f"Bearer {key.prefix}.{full}").get("/api/v1/orders").status_code == 200
    listing = admin_user_client.get("/admin/customers/apikey/").content.decode()
    assert key.prefix in listing and "read:customers, read:orders" in listing and full not in listing
    admin_user_client.post("/admin/customers/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert _client(f"Bearer {key.prefix}.{full}").get("/api/v1/orders").status_code == 401


def test_create_api_key_command_prints_a_working_key_once():
    # given the command, when a key is made with one scope, then the printed key reads customers and nothing is stored in clear
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_key", "ops", "--scope", "read:customers", "--quiet", stdout=out)
    full = out.getvalue().strip()
    assert _client(f"Bearer {full}").get("/api/v1/customers").status_code == 200
    assert _client(f"Bearer {full}").get("/api/v1/orders").status_code == 403
    assert full.split(".", 1)[1] not in str(list(ApiKey.objects.values()))


def test_a_cached_key_is_refused_at_once_when_revoked(settings, django_assert_num_queries):
    # given a key checked once (and so cached), when it is used again and then revoked, then no key query the second time and 401 after
    settings.API_KEY_CACHE_SECONDS = 30
    key, full = api_key_create(name="cached", scopes=["read:orders"])
    client = _client(f"Bearer {full}")
    assert client.get("/api/v1/orders").status_code == 200
    with django_assert_num_queries(1):  # the orders page only
        assert client.get("/api/v1/orders").status_code == 200
    api_key_revoke(key_ids=[key.pk])
    assert client.get("/api/v1/orders").status_code == 401
