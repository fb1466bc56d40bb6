"""The signed "manage my replies" link: single-purpose (its own salt), expiring (``max_age``),
and naming a ``ManageRequest`` row by id and secret, never the address itself."""

from __future__ import annotations

from django.core import signing
from django.utils.crypto import constant_time_compare

from .app_settings import app_settings
from .models import ManageRequest

PURPOSE = "speakout.privacy.manage"


def make_token(request: ManageRequest) -> str:
    return signing.dumps({"r": request.pk, "s": request.secret}, salt=PURPOSE)


def read_token(token: str) -> ManageRequest | None:
    """The request a valid token names, or None (forged, expired, for another purpose, or gone)."""
    try:
        data = signing.loads(token, salt=PURPOSE, max_age=app_settings.LINK_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int) or not isinstance(data.get("s"), str):
        return None
    request = ManageRequest.objects.filter(pk=data["r"]).first()
    if request is None or not constant_time_compare(request.secret, data["s"]):
        return None
    return request
