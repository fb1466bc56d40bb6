"""Small values read on every request and changed rarely (the discussion and safety rules, the
client keys, the staff's names), read from the shared cache.

With Redis they are kept in this process, and Redis says when one changes, expires or is deleted
(``SharedClientRedisCache.get_values_tracked``, speakout/net/rediscache.py): reading them costs
no round trip, and a change is seen by the next request, as with a plain read. Any other cache,
or a tracked read that fails, is read the plain way.
"""

from __future__ import annotations

import copy

from django.core.cache import cache


def get(key: str):
    """``cache.get(key)``. The value is the caller's own: a model instance read here may be
    changed and saved without touching the copy kept for other requests."""
    if getattr(cache, "tracking", False):
        try:
            [value] = cache.get_values_tracked((key,))
        except Exception:  # Redis unreachable, say: the plain read reports it, or works
            return cache.get(key)
        return copy.copy(value)
    return cache.get(key)
