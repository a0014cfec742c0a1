import pytest

from tests.customers.privacy.demo_customer import demo_customer


@pytest.fixture(autouse=True)
def _privacy_storage(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "privacy": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "privacy")}}}


@pytest.fixture
def demo():
    return demo_customer()
