"""Campaign mail as MIME bytes, for Django's SMTP backend.

A campaign message is always the same shape: multipart/alternative with a text and an HTML part,
ASCII headers in the common case. CampaignEmail is Django's EmailMultiAlternatives; its
message() writes that common shape straight to bytes, laid out exactly as Django and the email
package would write it (a test compares the bytes), and hands anything else (a non-ASCII
subject or address, a line over 998 bytes, attachments, Cc) to Django's own code, flattened
with a header policy that folds plain headers without email.header. Building the message
through the email package was the largest single cost of a campaign send after the template.
"""
from __future__ import annotations

import re
import uuid
from email import message_from_bytes
from email.message import Message
from email.policy import Compat32
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import DNS_NAME, RFC5322_EMAIL_LINE_LENGTH_LIMIT

_PLAIN_HEADER_RE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


class _ShortHeaderPolicy(Compat32):
    """Compat32 (what Django's MIME classes use) with a shortcut for plain headers.

    A printable-ASCII value with single spaces is folded greedily at its spaces, which unfolds to
    exactly the same value; Compat32 would run it through email.header.Header. Anything else
    takes the standard path.
    """

    def _fold(self, name, value, sanitize):
        if not isinstance(value, str) or len(value) > 900 or not _PLAIN_HEADER_RE.fullmatch(value):
            return super()._fold(name, value, sanitize)
        limit, lines, line = self.max_line_length or 78, [], f"{name}:"
        for word in value.split(" "):
            if len(line) + 1 + len(word) > limit and line != f"{name}:":
                lines.append(line)
                line = ""
            line = f"{line} {word}"
        lines.append(line)
        return self.linesep.join(lines) + self.linesep


SHORT_HEADER_POLICY = _ShortHeaderPolicy()
_CRLF_POLICY = SHORT_HEADER_POLICY.clone(linesep="\r\n")


class PreparedMessage(Message):
    """A real email.message.Message whose bytes were written by the fast path.

    as_bytes() returns those bytes (all that Django's SMTP backend reads). Any other use (the
    console and file backends read get_charset(), others read headers or as_string()) parses the
    bytes once into this object's own state, so every backend sees an ordinary Message. After that
    parse the standard generator writes it, so a header a backend adds is not lost.
    """

    def __init__(self, data: bytes):  # noqa: D107 - Message.__init__ runs lazily, in _materialise
        self.__dict__["_prepared"] = data

    def __getattr__(self, name: str):
        if name.startswith("__") or "_prepared" not in self.__dict__ or self.__dict__.get("_parsed"):
            raise AttributeError(name)
        self._materialise()
        return getattr(self, name)

    def _materialise(self) -> None:
        parsed = message_from_bytes(self.__dict__["_prepared"], policy=SHORT_HEADER_POLICY)
        self.__dict__.update(parsed.__dict__)
        self.__dict__["_parsed"] = True

    def as_bytes(self, unixfrom: bool = False, policy=None, linesep: str | None = None) -> bytes:
        if self.__dict__.get("_parsed"):
            return super().as_bytes(unixfrom, policy=(policy or self.policy).clone(linesep=linesep or "\n"))
        data = self.__dict__["_prepared"]
        return data if linesep == "\r\n" else data.replace(b"\r\n", (linesep or "\n").encode())

    def __bytes__(self) -> bytes:
        return self.as_bytes()


class CampaignEmail(EmailMultiAlternatives):
    """Django's multipart/alternative message with a fast path for the common campaign shape."""

    def message(self):
        boundary = self._boundary()
        fast = _alternative_bytes(self, boundary)
        if fast is not None:
            return PreparedMessage(fast)
        msg = super().message()
        msg.policy = SHORT_HEADER_POLICY
        if boundary and msg.is_multipart():
            msg.set_boundary(boundary)  # else the generator compiles a regex per message to check its own
        return msg

    def _boundary(self) -> str | None:
        """A uuid4 boundary, proven absent from the parts with a substring test."""
        boundary = f"=={uuid.uuid4().hex}=="
        contents = [self.body, *(str(alternative[0]) for alternative in self.alternatives)]
        return None if any(f"--{boundary}" in content for content in contents) else boundary


def _plain(value: str) -> bool:
    return value.isascii() and "\n" not in value and "\r" not in value


def _fast_shape(mail: EmailMultiAlternatives) -> bool:
    headers = mail.extra_headers
    return (
        (mail.encoding or settings.DEFAULT_CHARSET).lower() == "utf-8" and mail.content_subtype == "plain" and bool(mail.body)
        and len(mail.alternatives) == 1 and mail.alternatives[0][1] == "text/html" and not mail.attachments
        and not mail.cc and not mail.reply_to and len(mail.to) == 1
        and all(_plain(str(v)) and k.isascii() for k, v in headers.items()) and _plain(str(mail.subject))
        and _plain(str(headers.get("From", mail.from_email))) and _plain(str(mail.to[0]))
    )


def _part(content: str, subtype: str) -> bytes | None:
    lines = [line.removesuffix("\r") for line in content.split("\n")]
    if any("\r" in line for line in lines) or any(len(line.encode()) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in content.splitlines()):
        return None  # Django switches to quoted-printable: the standard path
    encoding = "7bit" if content.isascii() else "8bit"
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n'
    return head.encode("ascii") + "\r\n".join(lines).encode("utf-8")


def _alternative_bytes(mail: EmailMultiAlternatives, boundary: str | None) -> bytes | None:
    if boundary is None or not _fast_shape(mail):
        return None
    text, html = _part(str(mail.body), "plain"), _part(str(mail.alternatives[0][0]), "html")
    if text is None or html is None:
        return None
    extra = mail.extra_headers
    names = {name.lower() for name in extra}
    fields = [("Subject", str(mail.subject)), ("From", str(extra.get("From", mail.from_email))), ("To", str(mail.to[0]))]
    if "date" not in names:
        fields.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        fields.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    fields += [(name, str(value)) for name, value in extra.items() if name.lower() not in {"from", "to", "cc", "reply-to"}]
    head = "".join(_CRLF_POLICY.fold(name, value) for name, value in fields)
    top = f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\nMIME-Version: 1.0\r\n{head}\r\n'
    mark = f"--{boundary}".encode("ascii")
    return top.encode("ascii") + mark + b"\r\n" + text + b"\r\n" + mark + b"\r\n" + html + b"\r\n" + mark + b"--\r\n"
