"""Who is posting, as far as the discussion needs to know, without storing who they are.

* The client hash is a keyed hash of the IP address truncated to /24 (IPv4) or /48 (IPv6). It
  serves rate limits and bans; the address itself is never stored.
* ``X-Forwarded-For`` is ignored unless the operator says how many proxies sit in front
  (``SPEAKOUT_DISCUSSION_TRUSTED_PROXY_COUNT``); otherwise anyone could spoof it to dodge limits.
* A guest gets a random token in a signed cookie; replies keep only its hash. The token lets the
  guest see their held replies and edit or delete within the window.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from django.conf import settings
from django.core import signing

from . import app_settings

GUEST_COOKIE = "speakout_guest"
GUEST_COOKIE_MAX_AGE = 365 * 24 * 3600
_GUEST_SALT = "speakout.discussion.guest"


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = app_settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        # Each trusted proxy appended the address it saw; the client is the one the outermost
        # trusted proxy recorded. Anything further left was written by the client itself.
        if len(forwarded) >= proxies:
            remote = forwarded[-proxies]
    return remote


def truncate_ip(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def _keyed_hash(value: str, purpose: str) -> str:
    key = hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def client_hash_for_ip(address: str) -> str:
    truncated = truncate_ip(address)
    return _keyed_hash(truncated, "client") if truncated else ""


def client_hash(request) -> str:
    return client_hash_for_ip(client_ip(request))


def new_guest_token() -> str:
    return secrets.token_urlsafe(24)


def guest_key(token: str) -> str:
    return _keyed_hash(token, "guest") if token else ""


def read_guest_token(request) -> str:
    """The guest token from the signed cookie, or from the embed widget's signed header."""
    raw = request.COOKIES.get(GUEST_COOKIE) or request.headers.get("X-Speakout-Guest", "")
    if not raw:
        return ""
    try:
        return signing.loads(raw, salt=_GUEST_SALT, max_age=GUEST_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return ""


def sign_guest_token(token: str) -> str:
    return signing.dumps(token, salt=_GUEST_SALT)


def remember_guest(response, token: str) -> None:
    response.set_cookie(
        GUEST_COOKIE,
        sign_guest_token(token),
        max_age=GUEST_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
