"""Named version counters in the shared cache (Redis in production), so every process sees a
change at once. A cached page records the versions it was built from and is served only while
all of them stand; a change bumps its name ("content", "thread:<key hash>", ...).

A counter that is missing (never set, or evicted) starts again at the current time in
microseconds, which is above any value it can have held before, so an evicted counter can never
make an old page valid again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

PREFIX = "speakout:version:"


def key(name: str) -> str:
    return PREFIX + name


def _fresh() -> int:
    return time.time_ns() // 1000


def read_values(keys: tuple[str, ...]) -> list:
    """The counters under these keys, in order (None where missing). With Redis they are kept in
    this process and Redis says when one changes (speakout/net/rediscache.py), so checking a page
    against its versions costs no round trip; a tracked read that fails is made the plain way."""
    if getattr(cache, "tracking", False):
        try:
            return cache.get_values_tracked(keys)
        except Exception:  # Redis unreachable, say: the plain read reports it, or works
            pass
    found = cache.get_many(keys)
    return [found.get(key) for key in keys]


def current(names: Iterable[str]) -> dict[str, int]:
    names = list(names)
    found = cache.get_many([key(name) for name in names])
    result = {}
    for name in names:
        value = found.get(key(name))
        if value is None:
            cache.add(key(name), _fresh(), timeout=None)
            value = cache.get(key(name))
        result[name] = value
    return result


def bump_now(*names: str) -> None:
    for name in names:
        try:
            cache.incr(key(name))
        except ValueError:  # missing: start above anything it held
            cache.set(key(name), _fresh(), timeout=None)


def bump(*names: str) -> None:
    """Bump now and again when the surrounding transaction commits: a page rendered between the
    two from data not yet committed carries the first bump's value, so the second retires it."""
    bump_now(*names)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: bump_now(*names))
