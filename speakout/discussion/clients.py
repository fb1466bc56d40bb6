"""Who is posting, as far as the discussion needs to know, without storing who they are.

* The client hash is a keyed hash of the IP address truncated to /24 (IPv4) or /48 (IPv6). It
  serves rate limits and bans; the address itself is never stored. The key is a random secret
  that rotates every ``SPEAKOUT_CLIENT_KEY_DAYS`` (``ClientKey``); the previous keys stay valid
  for the retention window (``SPEAKOUT_CLIENT_HASH_DAYS``), so a ban or a rate limit recorded
  just before a rotation still matches. The privacy app's purge deletes older keys and hashes.
* The address comes from ``speakout.net.addresses.client_ip``: ``X-Forwarded-For`` counts only
  when it comes from a proxy listed in ``SPEAKOUT_TRUSTED_PROXIES``, so nobody dodges limits by
  forging it.
* A guest gets a random token in a signed cookie; replies keep only its hash. The token lets the
  guest see their held replies and edit or delete within the window.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from speakout.net import sharedreads
from speakout.net.addresses import client_ip

from . import app_settings

GUEST_COOKIE_MAX_AGE = 365 * 24 * 3600
_GUEST_SALT = "speakout.discussion.guest"


def truncate_ip(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def _keyed_hash(value: str, purpose: str, secret_key: str | None = None) -> str:
    key = hashlib.sha256(f"{purpose}:{secret_key or settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def key_period(now: datetime | None = None) -> int:
    seconds = max(1, app_settings.CLIENT_KEY_DAYS) * 86400
    return int((now or timezone.now()).timestamp() // seconds)


def oldest_kept_period(now: datetime | None = None) -> int:
    """Keys of this period or later are still honoured: their last hash is not yet past retention."""
    periods_kept = -(-max(0, app_settings.CLIENT_HASH_DAYS) // max(1, app_settings.CLIENT_KEY_DAYS))
    return key_period(now) - periods_kept


def client_keys_cache_key(now: datetime | None = None) -> str:
    """Where ``client_keys`` keeps the keys in the shared cache."""
    return f"speakout:client-keys:{key_period(now)}"


# The keys this process read last: a guess of a coming request's hashes, so that what is kept
# under them is read with the request's other reads (``likely_client_hashes``); never an answer.
_last_read: list[str] = []


def client_keys(now: datetime | None = None) -> list[str]:
    """The current key first, then the older keys still kept. Creates the current one if needed.
    Read from the shared cache for a few minutes: every reply and report computes hashes."""
    global _last_read
    from .models import ClientKey

    period = key_period(now)
    cache_key = client_keys_cache_key(now)
    keys = sharedreads.get(cache_key)
    if keys:
        _last_read = keys
        return keys
    current = ClientKey.objects.filter(period=period).first()
    if current is None:
        try:
            with transaction.atomic():
                current = ClientKey.objects.create(period=period, secret=secrets.token_hex(32))
        except IntegrityError:  # another process made it first
            current = ClientKey.objects.get(period=period)
    older = ClientKey.objects.filter(period__lt=period, period__gte=oldest_kept_period(now)).order_by("-period")
    keys = [current.secret, *older.values_list("secret", flat=True)]
    cache.set(cache_key, keys, 300)
    _last_read = keys
    return keys


def _client_hash_with(secret: str, truncated: str) -> str:
    return hmac.new(bytes.fromhex(secret), truncated.encode(), hashlib.sha256).hexdigest()


def client_hashes_for_ip(address: str, now: datetime | None = None) -> list[str]:
    """The address's hash under every key still kept, the current key's first."""
    truncated = truncate_ip(address)
    if not truncated:
        return []
    return [_client_hash_with(secret, truncated) for secret in client_keys(now)]


def likely_client_hashes(request) -> list[str]:
    """The request's client hashes under the keys this process read last (none before its first
    read), without reading them: a guess, right unless the keys changed since, to read what is
    kept under the hashes ahead (``refusals.spent`` asks again for any the guess missed)."""
    keys = _last_read
    truncated = truncate_ip(client_ip(request)) if keys else ""
    return [_client_hash_with(secret, truncated) for secret in keys] if truncated else []


def client_hashes(request) -> list[str]:
    hashes = getattr(request, "_speakout_client_hashes", None)
    if hashes is None:
        hashes = client_hashes_for_ip(client_ip(request))
        try:
            request._speakout_client_hashes = hashes
        except AttributeError:
            pass
    return hashes


def client_hash(request) -> str:
    hashes = client_hashes(request)
    return hashes[0] if hashes else ""


def new_guest_token() -> str:
    return secrets.token_urlsafe(24)


def guest_key(token: str) -> str:
    """What a guest's replies are filed under (stored on each reply): a keyed hash of the token."""
    return _keyed_hash(token, "guest") if token else ""


def guest_keys(token: str) -> tuple[str, ...]:
    """The token's key under the current secret key and under each fallback key: a guest's
    replies from before a key rotation (SPEAKOUT_SECRET_KEY_FALLBACKS) stay theirs, held ones
    still shown to them and their own to edit, as long as the old key is kept."""
    if not token:
        return ()
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", ())
    return (guest_key(token), *(_keyed_hash(token, "guest", old) for old in fallbacks if old))


def read_guest_token(request) -> str:
    """The guest token from the signed cookie, or from the embed widget's signed header."""
    raw = request.COOKIES.get(app_settings.GUEST_COOKIE_NAME) or request.headers.get("X-Speakout-Guest", "")
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
        app_settings.GUEST_COOKIE_NAME,
        sign_guest_token(token),
        max_age=GUEST_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
