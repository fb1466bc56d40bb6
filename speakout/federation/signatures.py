"""HTTP signatures: every request to an inbox is verified, every request we send is signed.

* Incoming: draft-cavage HTTP Signatures (``Signature:`` with ``rsa-sha256`` or ``hs2019`` and an
  RSA key, the way Mastodon signs), with ``Digest`` over the body and ``Date`` (or ``created``)
  within ``SIGNATURE_WINDOW_SECONDS``; and RFC 9421 HTTP Message Signatures (``Signature-Input``,
  ``Content-Digest``), which Fedify tries first, checked by the ``http-message-signatures``
  library. The RSA arithmetic is ``cryptography``'s.
* Outgoing: draft-cavage ``rsa-sha256`` over ``(request-target) host date digest``, which every
  server reads.
* Keys: a ``keyId`` is resolved to its actor through ``remote.actor_for_key`` (fetched through
  the SSRF-safe fetcher, kept ``KEY_CACHE_SECONDS``); a signature that fails with a kept key is
  tried once more with a freshly fetched one, so a remote key rotation is picked up. Fetches made
  to verify a signature are limited (``KEY_REFETCH_SECONDS`` per keyId,
  ``KEY_FETCHES_PER_HOST_PER_HOUR`` per host), so forged signatures cannot make the site fetch
  without end; past a limit the request is refused without a fetch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from http_message_signatures import HTTPMessageVerifier, algorithms
from http_message_signatures.digests import ContentDigest
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from speakout.net import ratelimit

from . import keys, remote
from .app_settings import app_settings
from .models import RemoteActor


class SignatureError(Exception):
    """The request is not signed, or not signed right; the message says why."""


_PARAM = re.compile(r'([A-Za-z]+)="([^"]*)"')


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def site_key_id() -> str:
    from .urls_helpers import actor_url

    return actor_url() + "#main-key"


def _signed_text(method: str, url: str, covered: list[str], value: Any) -> bytes:
    """The draft-cavage signing string: one line per covered name, ``value(name)`` for headers."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"{name}: {method.lower()} {target}" if name == "(request-target)" else f"{name}: {value(name)}"
        for name in covered
    ]
    return "\n".join(lines).encode()


def sign(method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
    """The headers that sign a request from the site actor (Date, Host, Digest, Signature)."""
    added = {"Date": formatdate(usegmt=True), "Host": urlsplit(url).netloc}
    covered = ["(request-target)", "host", "date"]
    if body or method.upper() == "POST":
        added["Digest"] = body_digest(body)
        covered.append("digest")
    message = _signed_text(method, url, covered, lambda name: added[name.title()])
    signature = keys.private_key(keys.current()).sign(message, padding.PKCS1v15(), hashes.SHA256())
    added["Signature"] = (
        f'keyId="{site_key_id()}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return added


def _public_key(actor: RemoteActor) -> RSAPublicKey:
    try:
        loaded = serialization.load_pem_public_key(actor.public_key_pem.encode())
    except ValueError as error:
        raise SignatureError("the actor's public key cannot be read") from error
    if not isinstance(loaded, RSAPublicKey):
        raise SignatureError("only RSA keys are accepted")
    return loaded


@dataclass
class Incoming:
    """What the verifier needs of a request: its method, full URL, headers and body."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == lowered), "")


def verify(request: Incoming) -> RemoteActor:
    """The actor whose key signed ``request``; SignatureError if none did."""
    if request.header("Signature-Input"):
        return _verify_rfc9421(request)
    header = request.header("Signature")
    if not header:
        raise SignatureError("the request is not signed")
    return _verify_cavage(request, header)


def _window() -> timedelta:
    return timedelta(seconds=app_settings.SIGNATURE_WINDOW_SECONDS)


def _check_time(moment: datetime) -> None:
    if abs(datetime.now(UTC) - moment) > _window():
        raise SignatureError("the signature's date is outside the accepted window")


def _verify_cavage(request: Incoming, header: str) -> RemoteActor:
    params = dict(_PARAM.findall(header))
    key_id, signature = params.get("keyId", ""), params.get("signature", "")
    if not key_id or not signature:
        raise SignatureError("the signature has no keyId or no signature")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ("rsa-sha256", "hs2019"):
        raise SignatureError(f"the algorithm {algorithm[:40]!r} is not accepted")
    covered = params.get("headers", "date").lower().split()
    needed = {"(request-target)", "host"}
    if request.method == "POST":
        needed.add("digest")
    if not needed <= set(covered) or not ({"date", "(created)"} & set(covered)):
        raise SignatureError("the signature does not cover (request-target), host, date and digest")
    if "date" in covered:
        try:
            _check_time(parsedate_to_datetime(request.header("Date")))
        except (TypeError, ValueError) as error:
            raise SignatureError("the Date header cannot be read") from error
    if "(created)" in covered:
        try:
            _check_time(datetime.fromtimestamp(int(params.get("created", "")), UTC))
        except ValueError as error:
            raise SignatureError("the signature's created time cannot be read") from error
    if "digest" in covered:
        sent = {
            part.split("=", 1)[0].strip().lower(): part.split("=", 1)[1].strip()
            for part in request.header("Digest").split(",")
            if "=" in part
        }
        expected = body_digest(request.body).split("=", 1)[1]
        if not hmac.compare_digest(sent.get("sha-256", ""), expected):
            raise SignatureError("the Digest does not match the body")

    def value(name: str) -> str:
        if name in ("(created)", "(expires)"):
            return params.get(name[1:-1], "")
        found = request.header(name)
        if not found:
            raise SignatureError(f"the signed header {name[:40]!r} is missing")
        return found

    message = _signed_text(request.method, request.url, covered, value)
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError as error:
        raise SignatureError("the signature is not base64") from error

    def check(actor: RemoteActor) -> bool:
        try:
            _public_key(actor).verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
        except CryptoInvalidSignature:
            return False
        return True

    return _with_key(key_id, check)


def _with_key(key_id: str, check: Any) -> RemoteActor:
    """Verify with the kept key, else with a freshly fetched one (unknown, stale, or rotated by
    the remote), the fetch within the limits."""
    kept = remote.kept_actor_for_key(key_id)
    if kept is not None and check(kept):
        return kept
    if not _may_fetch_key(key_id):
        reason = "the signature does not verify" if kept is not None else "the key is not known here"
        raise SignatureError(f"{reason}, and its key is not fetched again so soon")
    try:
        actor = remote.actor_for_key(key_id)
    except remote.RemoteError as error:
        raise SignatureError(f"the key cannot be fetched: {error}") from error
    if check(actor):
        return actor
    raise SignatureError("the signature does not verify")


def _may_fetch_key(key_id: str) -> bool:
    """Count a key fetch for ``key_id`` and its server (its registrable domain, so that the names
    of a wildcard domain share one count); False past either limit."""
    per_key = "speakout:federation:key-fetch:" + hashlib.sha256(key_id.encode()).hexdigest()
    if not ratelimit.allow(per_key, 1, app_settings.KEY_REFETCH_SECONDS):
        return False
    from .urls_helpers import registrable_domain

    host = registrable_domain(key_id)
    per_host = f"speakout:federation:key-fetch-host:{host}"
    if not ratelimit.allow(per_host, app_settings.KEY_FETCHES_PER_HOST_PER_HOUR, 3600):
        ratelimit.unhit(per_key)  # not fetched: this keyId may be fetched once the host may
        return False
    return True


class _KeyResolver:
    def __init__(self, actor: RemoteActor) -> None:
        self.actor = actor

    def resolve_public_key(self, key_id: str) -> RSAPublicKey:
        if key_id != self.actor.key_id:
            raise SignatureError("the keyid is not the actor's key")
        return _public_key(self.actor)


class _Verifier(HTTPMessageVerifier):
    require_created = True


def _verify_rfc9421(request: Incoming) -> RemoteActor:
    match = re.search(r'keyid="([^"]+)"', request.header("Signature-Input"))
    if not match:
        raise SignatureError("the signature has no keyid")
    if request.method == "POST":
        try:
            ContentDigest.verify(request.header("Content-Digest"), request.body)
        except HTTPMessageSignaturesException as error:
            raise SignatureError("the Content-Digest does not match the body") from error

    def check(actor: RemoteActor) -> bool:
        verifier = _Verifier(signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=_KeyResolver(actor))
        verifier.max_clock_skew = _window()
        try:
            results = verifier.verify(request, max_age=_window())
        except (HTTPMessageSignaturesException, SignatureError):
            return False
        covered = {str(name).split(";", 1)[0].strip('"') for result in results for name in result.covered_components}
        needed = {"@method", "@target-uri"} | ({"content-digest"} if request.method == "POST" else set())
        return needed <= covered

    return _with_key(match.group(1), check)


def incoming(django_request: Any, body: bytes) -> Incoming:
    """The Django request as the verifier reads it, addressed as the signer addressed it."""
    base = urlsplit(settings.BASE_URL)
    url = f"{base.scheme}://{base.netloc}{django_request.get_full_path()}"
    headers = dict(django_request.headers.items())
    if not any(name.lower() == "host" for name in headers):
        headers["Host"] = django_request.get_host()
    return Incoming(django_request.method, url, headers, body)
