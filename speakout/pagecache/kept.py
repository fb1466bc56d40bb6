"""Stored responses in the shared cache, the most recently used kept in this process as well.

A hit on a kept copy reads only the small version counters, not the whole page, and with Redis
those are kept in this process too, Redis saying when one changes (``versions.read_values``); the
versions are still checked on every lookup, so a change made through another process shows at
once. The anonymous page cache (middleware.py) and the readers' copies (reader.py) each
keep one of these.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from django.core.cache import cache

from . import app_settings, versions


class KeptEntries:
    def __init__(self, size: int, deps_of: Callable[[object], dict[str, int]]):
        self.size = size
        self.deps_of = deps_of  # the versions a stored value was built from
        # key → (value, the keys of its versions, the numbers it was built from)
        self._local: OrderedDict[str, tuple[object, tuple[str, ...], list[int]]] = OrderedDict()
        self._lock = threading.Lock()
        # Names of the versions last seen under a hint key: read in the same round trip as the
        # value itself next time.
        self._hints: dict[str, tuple[str, ...]] = {}

    def lookup(self, key: str, hint: str = ""):
        """The stored value, if every version it was built from still stands (one cache round
        trip when the versions' names are known from an earlier lookup in this process)."""
        kept = self._local.get(key)
        if kept is not None:
            value, version_keys, numbers = kept
            if versions.read_values(version_keys) == numbers:  # a missing version never matches
                return value
            self.forget(key)
        hint = hint or key
        found = versions.get_many_with(key, [versions.key(name) for name in self._hints.get(hint, ())])
        value = found.get(key)
        if value is None:
            return None
        self._hints[hint] = tuple(self.deps_of(value))
        if not self._still_valid(value, found):
            return None
        self._remember(key, value)
        return value

    def store(self, key: str, value, hint: str = "") -> None:
        cache.set(key, value, app_settings.TIMEOUT)
        self._hints[hint or key] = tuple(self.deps_of(value))
        self._remember(key, value)

    def forget(self, key: str) -> None:
        with self._lock:
            self._local.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._local.clear()
        self._hints.clear()

    def _remember(self, key: str, value) -> None:
        deps = self.deps_of(value)
        kept = (value, tuple(versions.key(name) for name in deps), list(deps.values()))
        with self._lock:
            self._local[key] = kept
            self._local.move_to_end(key)
            while len(self._local) > self.size:
                self._local.popitem(last=False)

    def _still_valid(self, value, found: dict) -> bool:
        deps = self.deps_of(value)
        now = {name: found[versions.key(name)] for name in deps if versions.key(name) in found}
        missing = [name for name in deps if name not in now]
        if missing:
            now.update(versions.current(missing))
        return all(now[name] == number for name, number in deps.items())
