"""Short-lived sign-in tokens handed to a widget on another origin.

The token names the user and the origin it was handed to, and carries a piece of the user's
session hash, so changing the password (which logs out every session) also voids every token.

It also carries the user's sign-out counter (``embed-user:<pk>``, a shared version counter of
speakout/pagecache/versions.py that every process sees): signing out of Speakout anywhere bumps
it, so every token handed out before, on any embedding page, is refused from then on. On a shared
computer the next person at the embedding page is then not signed in as the last one. The session
key is not in the token: the embedding page can read the token. A token without the counter
(issued before it existed) is refused.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core import signing

from speakout.pagecache import versions

from . import app_settings

USER_HEADER = "X-Speakout-User"
_SALT = "speakout.embed.signin"

logger = logging.getLogger(__name__)


def _signout_name(pk) -> str:
    return f"embed-user:{pk}"


def _signouts(pk) -> int:
    """The user's sign-out counter: one read of the shared versions (a missing or evicted one
    starts above any value a token can hold, so eviction refuses tokens, never revives them)."""
    name = _signout_name(pk)
    return versions.current([name])[name]


def signed_out(sender, request, user, **kwargs) -> None:
    """``user_logged_out``: void every widget token of the account."""
    if user is None or user.pk is None:
        return
    try:
        versions.bump_now(_signout_name(user.pk))
    except Exception:  # the session must still end (Django flushes it after this signal)
        logger.exception("Could not void the widget sign-ins of user %s at sign-out", user.pk)


def _fingerprint(user) -> str:
    return user.get_session_auth_hash()[:16]


def sign_user_token(user, origin: str) -> str:
    data = {"u": user.pk, "o": origin, "h": _fingerprint(user), "v": _signouts(user.pk)}
    return signing.dumps(data, salt=_SALT)


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
    if data.get("u") is None or data.get("v") is None or data["v"] != _signouts(data["u"]):
        return None  # signed out since (or issued before the counter): void
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or _fingerprint(user) != data.get("h"):
        return None
    return user
