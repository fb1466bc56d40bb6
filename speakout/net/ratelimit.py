"""The one rate-limit helper: counters and pauses in the shared cache.

Every limit in Speakout (replies, contact messages, moderator alerts, the outbox's sending
rate, "manage my replies" links, follow requests) counts here, so every process behind the load
balancer shares the count (Redis in production, the local cache on a single process) and the
counting is atomic: ``cache.add`` and ``cache.incr`` are atomic on both, so two requests at once
can never both take the last place.

A *window* opens with the first use and lasts ``window`` seconds; ``aligned`` windows instead
follow the clock (this hour, this minute), for limits stated per calendar period.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.core.cache import cache


def window_key(key: str, window: int, now: datetime | float | None = None) -> str:
    """``key`` in the clock-aligned window holding ``now`` (``key:<window number>``)."""
    moment = now.timestamp() if isinstance(now, datetime) else (time.time() if now is None else now)
    return f"{key}:{int(moment) // window}"


def hit(key: str, window: int) -> int:
    """Count one use of ``key``; the uses in its window so far, this one included."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def allow(key: str, limit: int, window: int, *, aligned: bool = False, now: datetime | None = None) -> bool:
    """Count one use; False once more than ``limit`` uses fell in the window (0: no limit)."""
    if limit <= 0:
        return True
    if aligned:
        # Kept for two windows, so the count outlives a clock that is slightly ahead.
        return hit(window_key(key, window, now), 2 * window) <= limit
    return hit(key, window) <= limit


def read(keys: list[str]) -> dict[str, Any]:
    """Several pauses and counts in one round trip, for ``used`` and ``paused`` to answer from."""
    return cache.get_many(keys) if keys else {}


def used(key: str, read_before: dict[str, Any] | None = None) -> int:
    """The uses counted in ``key``'s current window, without counting one (from ``read_before``,
    what ``read`` returned, when given)."""
    return (read_before.get(key) if read_before is not None else cache.get(key)) or 0


def unhit(key: str) -> None:
    """Give back a use counted by ``hit`` (the action it was counted for did not happen)."""
    try:
        cache.decr(key)
    except ValueError:  # the window has closed meanwhile: nothing to give back
        pass


def pause(key: str, seconds: int) -> bool:
    """Start a pause of ``seconds`` for ``key``; False if one is already running."""
    return cache.add(key, 1, timeout=seconds)


def paused(key: str, read_before: dict[str, Any] | None = None) -> bool:
    return (read_before.get(key) if read_before is not None else cache.get(key)) is not None


def end_pauses(keys: list[str]) -> None:
    cache.delete_many(keys)
