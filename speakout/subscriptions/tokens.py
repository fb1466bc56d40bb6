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


def make_token(subscription: Subscription, purpose: str) -> str:
    return signing.dumps({"id": subscription.pk, "s": subscription.secret}, salt=purpose)


def read_token(token: str, purpose: str) -> Subscription | None:
    """The subscription a valid token names, or None (forged, expired, foreign or deleted)."""
    max_age = app_settings.CONFIRM_MAX_AGE if purpose == CONFIRM else None
    try:
        data = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int) or not isinstance(data.get("s"), str):
        return None
    subscription = Subscription.objects.filter(pk=data["id"]).select_related("thread").first()
    if subscription is None or not constant_time_compare(subscription.secret, data["s"]):
        return None
    return subscription
