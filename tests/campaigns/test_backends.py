"""Campaign mail on every email backend: the fast MIME path keeps the interface of Django's message."""
from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from django.core import mail

from campaigns.mime import CampaignEmail
from campaigns.models import Campaign, Delivery
from campaigns.selectors import campaign_report
from campaigns.services.lifecycle import campaign_start
from tests.campaigns.factories import VariantFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}


def _received(kind: str, capsys, tmp_path, smtp) -> list[str]:
    """The recipients each backend shows as delivered, read back from where that backend puts mail."""
    if kind == "console":
        out = capsys.readouterr().out
        return sorted(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("To: "))
    if kind == "file":
        raw = "".join(p.read_text() for p in tmp_path.iterdir())
        return sorted(line.split(": ", 1)[1] for line in raw.splitlines() if line.startswith("To: "))
    if kind == "locmem":
        return sorted(m.to[0] for m in mail.outbox)
    return sorted(message_from_bytes(raw, policy=policy.default)["To"] for _, raw in smtp.messages)


@pytest.mark.parametrize("kind", list(BACKENDS))
def test_campaign_sends_on_every_backend_and_reports_sent(kind, settings, request, capsys, tmp_path, django_capture_on_commit_callbacks):
    # given two consenting customers and a two-variant campaign, when it is sent on the console, file, locmem or SMTP backend, then both messages arrive, none fails and the campaign says sent
    smtp = request.getfixturevalue("smtp_server") if kind == "smtp" else None
    settings.CAMPAIGN_EMAIL_BACKEND = BACKENDS[kind]
    settings.EMAIL_FILE_PATH = str(tmp_path)
    CustomerFactory(name="Alice Smith", email="alice@example.com")
    CustomerFactory(name="Bob Jones", email="bob@example.com")
    variant = VariantFactory(campaign__holdout_share=0, name="A", share=50)
    VariantFactory(campaign=variant.campaign, name="B", share=50)
    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_start(campaign_id=variant.campaign_id)
    assert _received(kind, capsys, tmp_path, smtp) == ["alice@example.com", "bob@example.com"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    campaign = Campaign.objects.get(pk=variant.campaign_id)
    assert campaign.status == Campaign.Status.SENT
    report = campaign_report(campaign_id=campaign.pk)
    assert report["totals"] == {"selected": 2, "sent": 2, "failed": 0, "suppressed": 0}


def test_prepared_message_is_an_ordinary_message_for_any_backend():
    # given a campaign mail on the fast path, when a backend reads headers, charset, parts or a string, then it gets what a Django message gives
    email = CampaignEmail("Hi Bob", "text\n", "shop@example.com", ["bob@example.com"], headers={"X-Campaign": "1"})
    email.attach_alternative('<p>a "quoted" word</p>', "text/html")
    msg = email.message()
    fast = msg.as_bytes(linesep="\r\n")
    assert msg.get_charset() is None and msg["To"] == "bob@example.com" and msg["X-Campaign"] == "1"
    assert [part.get_content_type() for part in msg.get_payload()] == ["text/plain", "text/html"]
    assert 'a "quoted" word' in msg.as_string()
    assert message_from_bytes(msg.as_bytes(linesep="\r\n"))["Subject"] == message_from_bytes(fast)["Subject"] == "Hi Bob"


def test_campaign_whose_every_message_fails_is_failed_with_its_count(settings, django_capture_on_commit_callbacks, smtp_server):
    # given an SMTP server that permanently refuses one of two recipients, when sent, then the campaign is "sent with failures" and the report counts 1 failed with the reason
    smtp_server.refuse["bob@example.com"] = "550 No such user"
    CustomerFactory(name="Alice Smith", email="alice@example.com")
    CustomerFactory(name="Bob Jones", email="bob@example.com")
    variant = VariantFactory(campaign__holdout_share=0, share=100)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=variant.campaign_id)
    campaign = Campaign.objects.get(pk=variant.campaign_id)
    report = campaign_report(campaign_id=campaign.pk)
    assert campaign.status == Campaign.Status.PARTIAL
    assert report["totals"]["failed"] == 1 and report["totals"]["sent"] == 1
    assert report["failures"][0]["n"] == 1 and "550" in report["failures"][0]["error"]
    smtp_server.refuse["alice@example.com"] = "550 No such user"
    other = VariantFactory(campaign__holdout_share=0, share=100)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=other.campaign_id)
    assert Campaign.objects.get(pk=other.campaign_id).status == Campaign.Status.FAILED


def test_report_compares_every_variant_even_one_that_reached_nobody():
    # given a two-variant campaign with no sent messages, when reported, then the A/B section holds B against A (too small to tell), not "one variant only"
    variant = VariantFactory(name="A")
    VariantFactory(campaign=variant.campaign, name="B")
    tests = campaign_report(campaign_id=variant.campaign_id)["ab_tests"]
    assert [(t["variant"], t["against"], t["verdict"]) for t in tests] == [("B", "A", "too_small_to_tell")]
