"""Refused submissions spend a budget too.

A refusal is an answer, and answers can be used to guess: which names the site protects, which
names its staff use, what the personal-data guard catches. Nothing is stored for a refused reply,
so the reply rate limits never see it; this counts refusals per client (under every client key
still kept) and per account, and once a client has spent ``REFUSAL_LIMIT`` it is refused as too
fast, whatever it sends, until the window ends. Never per typed address: anyone could then lock
someone else out by typing theirs.
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils.translation import gettext as _

from .app_settings import app_settings

SCOPE = "speakout:refused"


def _keys(client_hashes: tuple[str, ...], user) -> list[str]:
    keys = [f"{SCOPE}:client:{value}" for value in client_hashes if value]
    if user is not None:
        keys.append(f"{SCOPE}:user:{user.pk}")
    return keys


def spent(client_hashes: tuple[str, ...], user) -> bool:
    count, _window = app_settings.REFUSAL_LIMIT
    if not count:
        return False
    keys = _keys(client_hashes, user)
    return any((value or 0) >= count for value in cache.get_many(keys).values())


def count(client_hashes: tuple[str, ...], user) -> None:
    """One more refusal for this client (its current key) and account."""
    limit, window = app_settings.REFUSAL_LIMIT
    if not limit:
        return
    for key in _keys(client_hashes[:1], user):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout=window)


def message() -> str:
    return _("You have sent many replies in a short time. Please try again in a few minutes.")
