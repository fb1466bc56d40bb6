"""Signed links, each scoped to one subscription (its id and its random secret).

A confirmation link expires with the request (``CONFIRM_MAX_AGE``). An unsubscribe link does not
expire: RFC 8058 one-click unsubscribe must work from any mail still in an inbox. Both die with
the row, and a new request for the same address gets a new row and a new secret.
"""

from __future__ import annotations

from django.core import signing
from django.utils.crypto import constant_time_compare

from .app_settings import app_settings
from .models import Subscription

CONFIRM = "speakout.subscriptions.confirm"
UNSUBSCRIBE = "speakout.subscriptions.unsubscribe"
UNSUBSCRIBE_ALL = "speakout.subscriptions.unsubscribe-all"


def make_token(subscription: Subscription, purpose: str, *, together=()) -> str:
    """``together``: other rows of the same address this link confirms too (lists asked for in
    one request, confirmed by one mail)."""
    data: dict = {"id": subscription.pk, "s": subscription.secret}
    if together:
        data["and"] = [[other.pk, other.secret] for other in together]
    return signing.dumps(data, salt=purpose)


def read_together(token: str, subscription: Subscription) -> list[Subscription]:
    """The other rows a valid confirmation ``token`` of ``subscription`` names, still matching
    their secrets and its address."""
    pairs = _load(token, CONFIRM).get("and")
    if not isinstance(pairs, list):
        return []
    secrets = {pair[0]: pair[1] for pair in pairs if isinstance(pair, list) and len(pair) == 2}
    rows = Subscription.objects.filter(pk__in=[key for key in secrets if isinstance(key, int)])
    return [
        row
        for row in rows.filter(email=subscription.email).order_by("pk")
        if isinstance(secrets[row.pk], str) and constant_time_compare(row.secret, secrets[row.pk])
    ]


def read_token(token: str, purpose: str) -> Subscription | None:
    """The subscription a valid token names, or None (forged, expired, foreign or deleted)."""
    data = _load(token, purpose)
    if not isinstance(data.get("id"), int) or not isinstance(data.get("s"), str):
        return None
    subscription = Subscription.objects.filter(pk=data["id"]).select_related("thread").first()
    if subscription is None or not constant_time_compare(subscription.secret, data["s"]):
        return None
    return subscription


def make_address_token(email: str) -> str:
    """A link that stops every subscription of one address. Like an unsubscribe link it does not
    expire; it names only the address the mail was sent to, so it gives nothing to anyone else."""
    return signing.dumps({"e": email}, salt=UNSUBSCRIBE_ALL)


def read_address_token(token: str) -> str | None:
    email = _load(token, UNSUBSCRIBE_ALL).get("e")
    return email if isinstance(email, str) and email else None


def _load(token: str, purpose: str) -> dict:
    """What a valid token of ``purpose`` holds ({} if none: forged, expired, or not ours)."""
    max_age = app_settings.CONFIRM_MAX_AGE if purpose == CONFIRM else None
    try:
        data = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return {}
    return data if isinstance(data, dict) else {}
