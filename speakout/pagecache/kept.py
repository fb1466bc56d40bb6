"""Stored pages in the shared cache, the most recently used kept in this process as well.

A hit on a kept copy reads only the small version counters (the version files, or one
multi-get from Redis), not the whole page; they are read on every lookup, so a change made through
another process shows on the next request. How to read an entry's counters (their keys made,
the store found) is worked out once, when the entry is kept; a setting change (tests) forgets
every kept entry, since the store may have changed with it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from django.core.cache import cache
from django.core.signals import setting_changed

from . import app_settings, versions
from .entries import Entry


class KeptEntries:
    def __init__(self, size: int):
        self.size = size
        # key → (entry, what reads its versions now, the numbers it was built from)
        self._local: OrderedDict[str, tuple[Entry, Callable[[], list], list[int]]] = OrderedDict()
        self._lock = threading.Lock()
        setting_changed.connect(self._forget_all, weak=False)

    def lookup(self, key: str) -> Entry | None:
        """The stored entry, if every version it was built from still stands."""
        kept = self._local.get(key)
        if kept is not None:
            entry, read, numbers = kept
            if read() == numbers:  # a missing version (None) never matches
                return entry
            self.forget(key)
        entry = cache.get(key)
        if entry is None or versions.current(entry.deps) != entry.deps:
            return None
        self._remember(key, entry)
        return entry

    def store(self, key: str, entry: Entry) -> None:
        cache.set(key, entry, app_settings.TIMEOUT)
        self._remember(key, entry)

    def forget(self, key: str) -> None:
        with self._lock:
            self._local.pop(key, None)

    def _forget_all(self, **kwargs) -> None:
        with self._lock:
            self._local.clear()

    def _remember(self, key: str, entry: Entry) -> None:
        kept = (entry, versions.reader([versions.key(name) for name in entry.deps]), list(entry.deps.values()))
        with self._lock:
            self._local[key] = kept
            self._local.move_to_end(key)
            while len(self._local) > self.size:
                self._local.popitem(last=False)
