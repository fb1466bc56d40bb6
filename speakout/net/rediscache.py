"""Django's Redis cache, with one client object per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache operation,
and each one copies its 170-odd response callbacks into a fresh dict: about a quarter of a
millisecond per call, more than the round trip to Redis itself. A page-cache hit makes one or
two calls and a reply post about ten, so that was most of a hit's time. A ``redis.Redis`` is safe
to share between threads (every command borrows a connection from the pool), so one per pool
is kept. The pool itself stays Django's, and so does everything else about the backend but
``incr``, which takes one round trip instead of two (see below).

It adds ``get_values_tracked``: small values read often and changed rarely (the page cache's
version counters) are kept in this process, and Redis tells the process of every change to them
(``TrackedValues``), so a page-cache hit needs no round trip at all.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# Django's ``incr`` asks EXISTS, then INCRBY: two round trips, and a key expiring in between
# comes back as 1 with no expiry. This script does both in Redis, in one trip and atomically.
_INCR_EXISTING = """
if redis.call('exists', KEYS[1]) == 1 then
  return redis.call('incrby', KEYS[1], ARGV[1])
end
return false
"""


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_scripts = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(id(client))
        if script is None:
            script = self._incr_scripts[id(client)] = client.register_script(_INCR_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key {key!r} not found.")
        return value


logger = logging.getLogger(__name__)
_UNKNOWN = object()
# After the tracking connection fails (Redis restarting, or refusing CLIENT TRACKING), reads go
# the plain way for this long before it is tried again.
RETRY_SECONDS = 5.0
# Values kept at most (a version counter per thread read, and a few more); beyond it all are dropped.
KEPT_VALUES = 10_000


class TrackingUnavailable(Exception):
    """The tracking connection failed a moment ago; read the plain way."""


class TrackedValues:
    """Values kept in this process that Redis says it has changed, with server-assisted client-side
    caching (``CLIENT TRACKING``, RESP3): Redis remembers the keys this process's tracking
    connection read and sends an ``invalidate`` notice on that connection when one of them
    changes, expires, is evicted or the database is flushed.

    Each read first takes in the notices already waiting on the connection (one poll of the
    socket, no round trip), then reads from Redis only the keys it does not hold. Redis writes
    the notice out in the same pass as its answer to the writer, and the writer answers its own
    request only after that, so a request that follows finds the notice waiting unless this
    connection lags by more than that whole round trip (docs/caching.md). A connection that
    breaks may have lost notices: everything kept is dropped and read again.
    """

    def __init__(self, client: RedisCacheClient):
        self._client = client
        self._lock = threading.Lock()
        self._connection = None
        self._pid = None
        self._values: dict[bytes, object] = {}
        self._retry_at = 0.0

    def values(self, keys: tuple[bytes, ...]) -> list:
        """The values under these (already made) keys, in order; None where a key is missing."""
        with self._lock:
            if self._retry_at and time.monotonic() < self._retry_at:
                raise TrackingUnavailable
            try:
                connection = self._connected()
                while connection.can_read(0):  # notices waiting: applied by _invalidated
                    connection.read_response(push_request=True)
                kept = self._values
                found = [kept.get(key, _UNKNOWN) for key in keys]
                if any(value is _UNKNOWN for value in found):
                    missing = [key for key in keys if key not in kept]
                    connection.send_command("MGET", *missing)
                    read = {
                        key: None if value is None else self._client._serializer.loads(value)
                        for key, value in zip(missing, connection.read_response(), strict=True)
                    }
                    if len(kept) + len(read) > KEPT_VALUES:  # one per thread read: a bound, not an LRU
                        kept.clear()
                    kept.update((key, value) for key, value in read.items() if value is not None)
                    found = [read[key] if value is _UNKNOWN else value for key, value in zip(keys, found, strict=True)]
            except Exception as error:
                self._close()
                if isinstance(error, redis.ResponseError):
                    # Redis answered, and refused (CLIENT TRACKING unknown or not allowed): asking
                    # again will not help, so this process stops trying.
                    self._retry_at = math.inf
                    logger.warning(
                        "Redis refused client tracking (%s); reading versions plainly from now on. "
                        "Set SPEAKOUT_REDIS_TRACKING=no to stop trying.",
                        error,
                    )
                else:
                    self._retry_at = time.monotonic() + RETRY_SECONDS
                    logger.warning(
                        "Redis tracking connection failed (%s); reading versions plainly for %ss", error, RETRY_SECONDS
                    )
                raise
            self._retry_at = 0.0
            return found

    def _connected(self):
        if self._connection is None or self._pid != os.getpid():  # a forked process starts afresh
            pool = self._client._get_connection_pool(write=True)
            connection = pool.connection_class(**{**pool.connection_kwargs, "protocol": 3})
            connection.register_connect_callback(self._track)
            connection.connect()
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def _track(self, connection) -> None:
        # Called on every (re)connect: notices sent to an earlier connection are lost with it.
        self._values.clear()
        connection.send_command("CLIENT", "TRACKING", "ON")
        connection.read_response()
        connection._parser.set_invalidation_push_handler(self._invalidated)

    def _invalidated(self, notice) -> None:
        keys = notice[1]
        if keys is None:  # the database was flushed
            self._values.clear()
            return
        for key in keys:
            self._values.pop(key if isinstance(key, bytes) else key.encode(), None)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        self._values.clear()
        if connection is not None:
            try:
                connection.disconnect()
            except Exception:  # already broken
                pass


class SharedClientRedisCache(RedisCache):
    """``CACHES["default"]["BACKEND"] = "speakout.net.rediscache.SharedClientRedisCache"``."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        # Whether get_values_tracked may keep values in this process (versions.read_values asks).
        self.tracking = bool(options.pop("TRACKING", True))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusingRedisCacheClient
        self._tracked_lock = threading.Lock()
        self._tracked: TrackedValues | None = None
        self._made_keys: dict[tuple, tuple[bytes, ...]] = {}  # (keys, version) → the keys in Redis

    def get_values_tracked(self, keys: tuple[str, ...], version=None) -> list:
        """The values of these keys in order (None where missing), for values read on every
        request and changed rarely: kept in this process and dropped when Redis says they
        changed (``TrackedValues``)."""
        if self._tracked is None:
            with self._tracked_lock:
                if self._tracked is None:
                    self._tracked = TrackedValues(self._cache)
        made = self._made_keys.get((keys, version))
        if made is None:
            if len(self._made_keys) > 10_000:
                self._made_keys.clear()
            made = tuple(self.make_and_validate_key(key, version=version).encode() for key in keys)
            self._made_keys[(keys, version)] = made
        return self._tracked.values(made)
