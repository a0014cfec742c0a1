import pytest

from tests.customers.webhooks.receiver import start_receiver

SECRET = "whsec_test-secret"


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    receiver, server = start_receiver(SECRET)
    yield receiver
    server.shutdown()
    server.server_close()
