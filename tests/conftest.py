"""Shared fixtures: API clients, real-service switches, paths to real data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CLM_SHARED_DATA", ROOT.parent / "shared" / "data"))
BUNDLED_DATA = ROOT / "data"


def real_data_path(relative: str) -> Path:
    """A file of ../shared/data (or the bundled copy under data/); skips, saying so, when absent."""
    # ../shared/data keeps each set in a folder; the project bundles the licensed ones flat in data/
    for candidate in (SHARED_DATA / relative, BUNDLED_DATA / relative, BUNDLED_DATA / Path(relative).name):
        if candidate.exists():
            return candidate
    pytest.skip(f"real data file {relative} is absent from {SHARED_DATA} and {BUNDLED_DATA}")


# The staff groups and their permissions as the data migrations made them, read right after the
# test database is set up: a transactional test's flush empties auth_group, and browser tests
# (tests/browser/conftest.py) put a group back from here.
MIGRATED_GROUPS: dict[str, list[tuple[str, str]]] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.contrib.auth.models import Group

    with django_db_blocker.unblock():
        for group in Group.objects.prefetch_related("permissions__content_type"):
            MIGRATED_GROUPS[group.name] = [(p.content_type.app_label, p.codename) for p in group.permissions.all()]


@pytest.fixture(autouse=True)
def _model_dir(settings, tmp_path):
    """Each test writes model artefacts and uploaded files under its own temporary folder (Django resets storages)."""
    settings.MODEL_DIR = tmp_path / "models"
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {**settings.STORAGES["models"], "OPTIONS": {"location": str(tmp_path / "models")}},
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path / "media")}},
    }


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in-process even when REDIS_URL is set, so a test sees what its task did; the tests of
    a real worker (marked `services`) override this fixture to go through the broker."""
    from clmsite.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The embedded cache is a folder shared by processes: each test starts with it empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(username="staff", password="pw-staff-123", is_staff=True)


@pytest.fixture
def admin_user_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(username="root", password="pw-root-123", email="root@example.com")
    client.force_login(user)
    return client


@pytest.fixture
def api_client(staff_user) -> APIClient:
    token = Token.objects.create(user=staff_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is unset: this test needs a real Redis (set it, as .ci/run does)")
    return url


@pytest.fixture
def webhook_subscriber(settings):
    """An active subscription to every webhook event (sends stay queued: on_commit is not run)."""
    from customers.webhooks.models import WebhookEvent
    from customers.webhooks.services import webhook_subscription_create

    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # no DNS lookup of the example host
    return webhook_subscription_create(name="partner", url="https://partner.example.com/hook", events=list(WebhookEvent.values))


def emitted(event: str) -> list[dict]:
    """Payloads of the webhook deliveries recorded for `event`, oldest first."""
    from customers.webhooks.models import WebhookDelivery

    return list(WebhookDelivery.objects.filter(event=event).order_by("id").values_list("payload", flat=True))


@pytest.fixture
def key_client():
    """key_client(*scopes) -> an APIClient sending a new API key that holds those scopes."""
    from customers.api.keys import api_key_create

    def make(*scopes: str) -> APIClient:
        _, full = api_key_create(name=f"test key {'+'.join(scopes) or 'no scopes'}", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {full}")
        return client

    return make


@pytest.fixture
def member_client(django_user_model) -> APIClient:
    """A logged-in non-staff user's DRF token: it passes no scope."""
    user = django_user_model.objects.create_user(username="member", password="pw-member-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client
