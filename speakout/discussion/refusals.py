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

from speakout.net import sharedreads

from .app_settings import app_settings

SCOPE = "speakout:refused"


def keys(client_hashes: tuple[str, ...] | list[str], user) -> list[str]:
    """Where the counts of these clients and this account are kept in the shared cache."""
    keys = [f"{SCOPE}:client:{value}" for value in client_hashes if value]
    if user is not None:
        keys.append(f"{SCOPE}:user:{user.pk}")
    return keys


def spent(client_hashes: tuple[str, ...], user) -> bool:
    count, _window = app_settings.REFUSAL_LIMIT
    if not count:
        return False
    # Read with the request's other reads when it named them (services.reply_post_keys).
    return any((value or 0) >= count for value in sharedreads.get_many(keys(client_hashes, user)).values())


def count(client_hashes: tuple[str, ...], user) -> None:
    """One more refusal for this client (its current key) and account."""
    limit, window = app_settings.REFUSAL_LIMIT
    if not limit:
        return
    for key in keys(client_hashes[:1], user):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout=window)


def message() -> str:
    return _("You have sent many replies in a short time. Please try again in a few minutes.")
