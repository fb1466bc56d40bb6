"""Short-lived sign-in tokens handed to a widget on another origin.

The token names the user and the origin it was handed to, and carries a piece of the user's
session hash, so changing the password (which logs out every session) also voids every token.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core import signing

from . import app_settings

USER_HEADER = "X-Speakout-User"
_SALT = "speakout.embed.signin"


def _fingerprint(user) -> str:
    return user.get_session_auth_hash()[:16]


def sign_user_token(user, origin: str) -> str:
    return signing.dumps({"u": user.pk, "o": origin, "h": _fingerprint(user)}, salt=_SALT)


def read_user_token(token: str, origin: str | None):
    """The active user a token names, if it is genuine, fresh and was handed to ``origin``."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_SALT, max_age=app_settings.SIGNIN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or (origin is not None and data.get("o") != origin):
        return None
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or _fingerprint(user) != data.get("h"):
        return None
    return user
