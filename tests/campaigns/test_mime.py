"""Campaign mail as bytes: the fast path writes what Django writes; the header policy folds losslessly."""
from __future__ import annotations

from email import message_from_bytes
from unittest import mock

import pytest
from django.core.mail import EmailMultiAlternatives

from campaigns.mime import SHORT_HEADER_POLICY, CampaignEmail, PreparedMessage

LONG_UNSUBSCRIBE = "<https://shop.example.com/u/" + "x" * 90 + ">, <mailto:shop@example.com?subject=unsubscribe>"
BOUNDARY = "==0123456789abcdef0123456789abcdef=="


@pytest.mark.parametrize("value", ["Bob, picked for you", "two  spaces stay", "a " * 50 + "end", "x" * 150, LONG_UNSUBSCRIBE, "Zoë, für dich"])
def test_short_header_policy_unfolds_to_the_value_it_was_given(value):
    # given plain, long, spaced and non-ASCII header values, when folded, then unfolding gives the value back and a line only runs past 78 characters when one word does
    folded = SHORT_HEADER_POLICY.fold("Subject", value)
    parsed = message_from_bytes(folded.encode("ascii") + b"\n")["Subject"]
    if value.isascii():
        assert parsed.replace("\n", "") == value
        assert all(len(line) <= 78 or len(line.removeprefix("Subject:").split()) == 1 for line in folded.splitlines())
    else:
        assert "=?utf-8?" in folded  # the standard RFC 2047 path


def _mail(cls, subject="Bob, picked for you", text="text é\nline two\n", headers=None):
    headers = {"Message-ID": "<c1.d2@example.com>", "Date": "Sun, 29 Nov 2026 01:00:00 -0000", "X-Campaign": "1", **(headers or {})}
    mail = cls(subject, text, "shop@example.com", ["bob@example.com"], headers=headers)
    mail.attach_alternative("<p>hi é</p>\n<p>two</p>", "text/html")
    return mail


def _django_bytes(mail) -> bytes:
    msg = mail.message()
    msg.set_boundary(BOUNDARY)
    return msg.as_bytes(linesep="\r\n")


def test_fast_path_writes_byte_for_byte_what_django_writes():
    # given a plain-ASCII-headed campaign mail with a non-ASCII body, when flattened, then the fast path's bytes equal Django's with the same boundary
    with mock.patch.object(CampaignEmail, "_boundary", return_value=BOUNDARY):
        ours = _mail(CampaignEmail).message()
    assert isinstance(ours, PreparedMessage)
    assert ours.as_bytes(linesep="\r\n") == _django_bytes(_mail(EmailMultiAlternatives))
    assert message_from_bytes(ours.as_bytes())["Message-ID"] == "<c1.d2@example.com>"


@pytest.mark.parametrize("kind", ["non-ascii subject", "long line", "bare carriage return"])
def test_other_shapes_take_djangos_path(kind):
    # given a non-ASCII subject, a line over 998 bytes or a bare CR, when flattened, then Django builds the message (quoted-printable, RFC 2047) and it parses
    mail = {
        "non-ascii subject": lambda: _mail(CampaignEmail, subject="Zoë, picked for you"),
        "long line": lambda: _mail(CampaignEmail, text="x" * 1200),
        "bare carriage return": lambda: _mail(CampaignEmail, text="a\rb"),
    }[kind]()
    msg = mail.message()
    assert not isinstance(msg, PreparedMessage)
    assert message_from_bytes(msg.as_bytes(linesep="\r\n")).get_content_type() == "multipart/alternative"


def test_long_headers_parse_to_the_same_message_as_djangos():
    # given a long List-Unsubscribe header, when flattened by both, then every header and both parts read back the same
    headers = {"List-Unsubscribe": LONG_UNSUBSCRIBE}
    ours = message_from_bytes(_mail(CampaignEmail, headers=headers).message().as_bytes(linesep="\r\n"))
    django = message_from_bytes(_django_bytes(_mail(EmailMultiAlternatives, headers=headers)))
    for name in ("Subject", "From", "To", "Date", "Message-ID", "List-Unsubscribe", "X-Campaign", "MIME-Version"):
        assert " ".join(str(ours[name]).split()) == " ".join(str(django[name]).split())
    assert [p.get_payload(decode=True) for p in ours.get_payload()] == [p.get_payload(decode=True) for p in django.get_payload()]
    assert [p.get_content_type() for p in ours.get_payload()] == ["text/plain", "text/html"]
