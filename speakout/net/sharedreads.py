"""Small shared-cache entries a request needs, read in one round trip.

A reply post reads about half a dozen small entries of the shared cache (the discussion's and
the safety app's rules, the client keys, the staff's names, the spam model's version), each
once. Asked one by one, each is a round trip to Redis; ``read_together(keys)`` asks for all of
them with one multi-get, and ``get``/``get_many`` then answer each key's first read from it.
A key's second read, a key not in the batch, and every read outside the block go to the cache
as before, so a value is at most as old as its read into the block, and nothing outlives it.

``SharedReadsMiddleware`` opens such a block for a whole request with the keys the apps say it
will read (``prefetch``), before the middleware that read them (the site's default language), so
a reply post reads those and its own in one round trip. A block opened inside another reads only
the keys the outer one does not hold. A view that knows what its template will read adds those
keys with ``read_ahead`` (the report page: its ``{% cache %}`` fragments, which Django's tag reads
through ``FragmentCache``, the menu, the translations, the discussion's rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

_ABSENT = object()  # read together, and not in the cache
_read: ContextVar[dict[str, Any] | None] = ContextVar("speakout_shared_reads", default=None)


@contextmanager
def read_together(keys: Iterable[str]) -> Iterator[None]:
    """Read ``keys`` from the shared cache now, in one round trip, for the block's first reads."""
    keys = list(dict.fromkeys(keys))
    batch = _read.get()
    if batch is not None:
        # Inside a request's block: the keys it holds unread are as fresh as this block needs.
        read_ahead(keys)
        yield
        return
    found = cache.get_many(keys) if keys else {}
    token = _read.set({key: found.get(key, _ABSENT) for key in keys})
    try:
        yield
    finally:
        _read.reset(token)


def _taken(key: str) -> Any:
    """The batch's value of ``key`` (once), ``_ABSENT``, or None when the batch never read it."""
    batch = _read.get()
    if batch is None:
        return None
    return batch.pop(key, None)


def get(key: str) -> Any:
    """``cache.get(key)``, answered from the batch for the key's first read in the block."""
    value = _taken(key)
    if value is None:
        return cache.get(key)
    return None if value is _ABSENT else value


def get_many(keys: Iterable[str]) -> dict[str, Any]:
    """``cache.get_many(keys)``, from the batch for the keys it read; the others in one trip."""
    found: dict[str, Any] = {}
    missing: list[str] = []
    for key in keys:
        value = _taken(key)
        if value is None:
            missing.append(key)
        elif value is not _ABSENT:
            found[key] = value
    if missing:
        found.update(cache.get_many(missing))
    return found


def read_ahead(keys: Iterable[str]) -> None:
    """Inside a block (every request has one, ``SharedReadsMiddleware``), read ``keys`` now in one
    round trip, for their first reads later in the block; outside a block, nothing."""
    batch = _read.get()
    if batch is None:
        return
    missing = [key for key in dict.fromkeys(keys) if key not in batch]
    if missing:
        found = cache.get_many(missing)
        batch.update((key, found.get(key, _ABSENT)) for key in missing)


class FragmentCache(BaseCache):
    """The default cache, whose reads are answered first from the request's block: Django's
    ``{% cache %}`` tag reads the ``template_fragments`` cache when one is configured, so the
    fragments a page's view read ahead cost no round trip each. Every write goes to the default
    cache, and every read a block does not hold too."""

    def __init__(self, location: str, params: dict[str, Any]):
        super().__init__(params)

    @property
    def _shared(self) -> BaseCache:
        return caches[DEFAULT_CACHE_ALIAS]

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        if version is None:
            value = _taken(key)
            if value is not None:
                return default if value is _ABSENT else value
        return self._shared.get(key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> dict[str, Any]:
        return self._shared.get_many(keys, version) if version is not None else get_many(keys)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._shared.add(key, value, timeout, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> None:
        self._shared.set(key, value, timeout, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list:
        return self._shared.set_many(data, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._shared.touch(key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._shared.delete(key, version)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._shared.delete_many(keys, version)

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._shared.has_key(key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        return self._shared.incr(key, delta, version)

    def clear(self) -> None:
        self._shared.clear()


# Functions of a request that name the shared-cache keys it will read, registered by the apps in
# AppConfig.ready(); "alongside" ones only add their keys to a read another one asked for.
_PREFETCHERS: list[tuple[Callable[[Any], Iterable[str]], bool]] = []


def prefetch(function: Callable[[Any], Iterable[str]], *, alongside: bool = False) -> None:
    """Have ``SharedReadsMiddleware`` read the keys ``function(request)`` names. ``alongside``:
    only with the keys of another (the site's language, read by every request anyway, gains
    nothing read alone)."""
    if (function, alongside) not in _PREFETCHERS:
        _PREFETCHERS.append((function, alongside))


class SharedReadsMiddleware:
    """Reads what the registered functions say a request will read, in one round trip, for the
    first reads of the whole request (see the module's docstring)."""

    def __init__(self, get_response: Callable[[Any], Any]):
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        keys: list[str] = []
        extra: list[str] = []
        for function, alongside in _PREFETCHERS:
            (extra if alongside else keys).extend(function(request))
        # A request that names no keys still gets a block (read nothing yet), for its view's
        # ``read_ahead``; what it then reads alone it asks the cache as before.
        with read_together([*keys, *extra] if keys else []):
            return self.get_response(request)
