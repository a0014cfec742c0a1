"""Authentication of the mail provider's bounce calls: HMAC-SHA256 over timestamp and body.

The provider sends `X-Bounce-Timestamp: <unix seconds>` and
`X-Bounce-Signature: sha256=<hex HMAC-SHA256(BOUNCE_SIGNING_SECRET, "<timestamp>." + body)>`.
A call older (or newer) than BOUNCE_SIGNATURE_TOLERANCE seconds is refused, so a captured call
cannot be replayed later. User tokens and API keys are not accepted on this route.
"""
from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

TIMESTAMP_HEADER = "HTTP_X_BOUNCE_TIMESTAMP"
SIGNATURE_HEADER = "HTTP_X_BOUNCE_SIGNATURE"


def bounce_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The header value a provider sends (also what a test or a provider adapter computes)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class MailProvider:
    """request.user of a signed provider call."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    pk = id = None
    username = "mail-provider"


class BounceSignatureAuthentication(BaseAuthentication):
    def authenticate(self, request):
        timestamp, signature = request.META.get(TIMESTAMP_HEADER), request.META.get(SIGNATURE_HEADER)
        if not timestamp and not signature:
            return None
        secret = settings.BOUNCE_SIGNING_SECRET
        if not secret:
            raise AuthenticationFailed("Bounce reports are refused: BOUNCE_SIGNING_SECRET is not set.")
        if not (timestamp or "").isdigit() or abs(time.time() - int(timestamp)) > settings.BOUNCE_SIGNATURE_TOLERANCE:
            raise AuthenticationFailed("X-Bounce-Timestamp is missing or outside the allowed window.")
        expected = bounce_signature(secret=secret, timestamp=timestamp, body=request.body)
        if not hmac.compare_digest(expected, signature or ""):
            raise AuthenticationFailed("X-Bounce-Signature does not match.")
        return MailProvider(), "mail-provider"

    def authenticate_header(self, request) -> str:
        return 'HMAC-SHA256 realm="bounces", headers="X-Bounce-Timestamp X-Bounce-Signature"'


class IsMailProvider(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, MailProvider)


class BounceSignatureSchema(OpenApiAuthenticationExtension):
    target_class = BounceSignatureAuthentication
    name = "bounceSignature"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Bounce-Signature",
                "description": 'sha256=<hex HMAC-SHA256(secret, "<X-Bounce-Timestamp>." + body)>'}
