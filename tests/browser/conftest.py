"""Shared fixtures of the browser journeys: Debian's chromium driven by Playwright for Python
against pytest-django's live server.

Use them like this (every fixture is function-scoped except the browser):

    pytestmark = BROWSER  # skips, saying why, when chromium or Playwright is missing

    def test_something(staff_page, live_server, shot):
        staff_page.goto(live_server.url + "/admin/")      # already logged in as `marketer`
        shot(staff_page, "home")                           # var/screenshots/<test>-home.png
        assert "The shop" in staff_page.inner_text("#panel-shop")

- `chromium_path`: the browser binary (CHROMIUM_PATH, else `chromium` / `chromium-browser` on
  PATH, else /usr/bin/chromium). Playwright's own browser download is never used: it cannot
  work here (no `playwright install`).
- `browser`: one headless chromium per session.
- `page`: a fresh browser context and page per test (1400x900), closed afterwards.
- `marketer`: a staff user in the Marketing group with an email address (password MARKETER_PASSWORD).
- `staff_page`: `page`, logged in as `marketer` through the admin login form.
- `marketing_shop`: a generated shop run through the real pipelines (segments twice, lifetime
  and churn models, scores); see tests/campaigns/marketing_shop.py.
- `shot(page, step)`: saves var/screenshots/<test name>-<step>.png (full page) and returns the path.

Tests here run with `transactional_db` (the live server answers from another thread). Its flush
empties the groups the data migrations made; `marketer` puts its group back from the snapshot
tests/conftest.py takes when the test database is set up (`staff_groups`, `group_restore`). Serialized rollback was tried and was
not reliable beside Playwright on PostgreSQL (the serialized copy was missing on the connection).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from infra.groups import GROUP_NAME
from tests.campaigns.marketing_shop import marketing_shop_create
from tests.conftest import MIGRATED_GROUPS, ROOT

SCREENSHOTS = ROOT / "var" / "screenshots"
MARKETER_PASSWORD = "pw-marketer-123"  # noqa: S105 - a test user's password
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH", ""), shutil.which("chromium") or "", shutil.which("chromium-browser") or "", "/usr/bin/chromium"]
    return next((path for path in candidates if path and Path(path).is_file() and os.access(path, os.X_OK)), None)


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    if find_chromium() is None:
        return "no chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)"
    return None


SKIP_REASON = _skip_reason()
# The marks every browser test module sets: skip with the reason, live server, transactions.
BROWSER = [
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

# Playwright's sync API keeps an event loop in the test's thread; Django's ORM refuses to run
# beside one unless told it is safe, which it is here (one thread, no coroutines of ours).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    return find_chromium()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def shot(request):
    """shot(page, step) -> Path: a full-page screenshot named after the test and the step."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(page, step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def staff_groups(django_db_setup) -> dict[str, list[tuple[str, str]]]:
    """The groups the data migrations made (read by tests/conftest.py when the database was set up)."""
    return MIGRATED_GROUPS


def group_restore(name: str, snapshot: dict[str, list[tuple[str, str]]]) -> Group:
    """The group as migrated. A transactional test's flush empties auth_group (post_migrate
    brings back permissions, not groups), so each test puts the group back from the snapshot."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        wanted = Q()
        for app_label, codename in snapshot[name]:
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))
    return group


@pytest.fixture
def marketer(django_user_model, staff_groups):
    user = django_user_model.objects.create_user(username="mia", email="mia@example.com", password=MARKETER_PASSWORD, is_staff=True, first_name="Mia")
    user.groups.add(group_restore(GROUP_NAME, staff_groups))
    return user


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Through the admin's own login form, as a person does."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


@pytest.fixture
def staff_page(page, live_server, marketer, settings):
    settings.SITE_URL = live_server.url  # links in mail and previews point at the live server
    log_in(page, live_server.url, marketer.username, MARKETER_PASSWORD)
    return page


@pytest.fixture
def marketing_shop():
    return marketing_shop_create()
