"""Signed links of campaign mail: unsubscribe, open pixel, click redirect, landing page.

Every public URL carries a token signed with SECRET_KEY (django.core.signing), so nobody can
forge one for another delivery; a click token also signs the target URL, and the redirect view
refuses any URL the campaign does not contain (no open redirect). Each purpose signs with its own
salt, so a landing link forwarded to a friend cannot unsubscribe its customer, nor a pixel URL
count as a click: a token verifies only for the purpose it was made for.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse

from customers.models import Product

_PURPOSE_SALTS = {
    "landing": "campaigns.landing",
    "unsubscribe": "campaigns.unsubscribe",
    "open": "campaigns.open",
}
_CLICK_SALT = "campaigns.click"
_URL_RE = re.compile(r"https?://[^\s\"'<>]+")


@functools.lru_cache(maxsize=8)
def _signer_mac(salt: str, secret: str):
    """The keyed HMAC that django.core.signing.Signer(salt=salt) derives on every call, made once."""
    key = hashlib.sha256(f"{salt}signer{secret}".encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _sign(salt: str, value: str) -> str:
    """Exactly Signer(salt=salt).sign(value) (tested), ten links a message without re-deriving the key."""
    mac = _signer_mac(salt, settings.SECRET_KEY).copy()
    mac.update(value.encode())
    return f"{value}:{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode()}"


def delivery_token(delivery_id: int, *, purpose: str) -> str:
    """A token for one delivery and one purpose: "landing", "unsubscribe" or "open"."""
    return _sign(_PURPOSE_SALTS[purpose], str(delivery_id))


def delivery_from_token(token: str, *, purpose: str) -> int | None:
    """The delivery id a token was signed for with this purpose, or None (tampered, malformed, other purpose)."""
    try:
        return int(signing.Signer(salt=_PURPOSE_SALTS[purpose]).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def click_token(delivery_id: int, url: str) -> str:
    """delivery id, the URL (urlsafe base64) and an HMAC of both: cheap enough for 100k mails."""
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return _sign(_CLICK_SALT, f"{delivery_id}.{encoded}")


def click_from_token(token: str) -> tuple[int, str] | None:
    try:
        delivery_id, encoded = signing.Signer(salt=_CLICK_SALT).unsign(token).split(".", 1)
        return int(delivery_id), base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        return None


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


@functools.cache
def _route(name: str) -> tuple[str, str]:
    """The path of a one-argument route split around its argument (reverse() is slow per mail)."""
    head, _, tail = reverse(name, args=["ARG0"]).partition("ARG0")
    return head, tail


def _path(name: str, arg: str) -> str:
    head, tail = _route(name)
    return f"{settings.SITE_URL}{head}{arg}{tail}"


def unsubscribe_url(delivery_id: int) -> str:
    return _path("campaigns:unsubscribe", delivery_token(delivery_id, purpose="unsubscribe"))


def open_pixel_url(delivery_id: int) -> str:
    return _path("campaigns:open", delivery_token(delivery_id, purpose="open"))


def tracked_url(delivery_id: int, url: str) -> str:
    return _path("campaigns:click", click_token(delivery_id, url))


def product_url(sku: str) -> str:
    """The public product page /products/<sku>/ (the link of a product without its own URL)."""
    return _path("campaigns:product", quote(sku, safe=""))


def landing_url(slug: str, delivery_id: int | None) -> str:
    url = _path("campaigns:landing", slug)
    return f"{url}?t={delivery_token(delivery_id, purpose='landing')}" if delivery_id else url


def discount_code(prefix: str, campaign_id: int, customer_id: int) -> str:
    """A per-customer code, stable for the campaign and not guessable without SECRET_KEY."""
    if not prefix:
        return ""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"discount:{campaign_id}:{customer_id}".encode(), hashlib.sha256).digest()
    return f"{prefix}-{base64.b32encode(digest[:5]).decode()}"


def urls_in(text: str) -> set[str]:
    return set(_URL_RE.findall(text or ""))


def url_allowed(*, url: str, slug: str, template_sources: list[str]) -> bool:
    """True when the campaign contains `url`: written in its templates, a product page, or its landing page."""
    if urlsplit(url).scheme not in ("http", "https"):
        return False
    if any(url in urls_in(source) for source in template_sources):
        return True
    if url.startswith(absolute(reverse("campaigns:landing", args=[slug]))):
        return True
    product_prefix = f"{settings.SITE_URL}/products/"
    if url.startswith(product_prefix) and Product.objects.filter(sku=unquote(url[len(product_prefix):].rstrip("/"))).exists():
        return True
    return bool(url) and Product.objects.filter(url=url).exists()
