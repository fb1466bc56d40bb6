"""Django's Redis cache with less CPU per call (with PostgreSQL every page-cache hit makes one:
docs/architecture.md).

* One ``redis.Redis`` per connection pool: Django builds one per operation, copying its 170-odd
  response callbacks each time (a quarter of a millisecond, more than the round trip). A client
  is safe to share between threads.
* ``get`` and ``get_many`` send a plain GET or MGET, packed once, on a connection of the thread's
  own, and read the reply with hiredis, past redis-py's command path (pool, retries, event hooks)
  and its connection's send and read methods; the socket blocks, its timeout kept by the kernel.
* ``incr`` in one round trip (a script, sent the same way); no memcached key check.

They lean on Django's private ``_get_connection_pool`` and ``_client`` and on redis-py's
connection's ``_sock`` and ``_parser``: tests/project/test_rediscache.py fails on the upgrade that
changes them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import struct
import threading
from collections.abc import Callable

import hiredis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Django's ``incr`` asks EXISTS, then INCRBY: two round trips, and a key expiring in between
# comes back as 1 with no expiry. This script does both in Redis, in one trip and atomically.
_INCR_EXISTING = """
if redis.call('exists', KEYS[1]) == 1 then
  return redis.call('incrby', KEYS[1], ARGV[1])
end
return false
"""
_INCR_EXISTING_SHA = hashlib.sha1(_INCR_EXISTING.encode(), usedforsecurity=False).hexdigest()


_process = {"pid": os.getpid()}  # asking the kernel on every read costs a system call
os.register_at_fork(after_in_child=lambda: _process.update(pid=os.getpid()))


def _connect(connection) -> None:
    """Connect (redis-py's handshake), then leave the socket blocking with the connection's timeout
    kept by the kernel (SO_RCVTIMEO, SO_SNDTIMEO): under Python's own timeout every send and
    receive polls first, one more system call and one more release of the GIL each. A Redis that
    never answers still ends the read, with a TimeoutError."""
    connection.connect()
    seconds = connection.socket_timeout or 5
    timeval = struct.pack("@ll", int(seconds), int(seconds % 1 * 1_000_000))
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        connection._sock.setsockopt(socket.SOL_SOCKET, option, timeval)
    connection._sock.settimeout(None)
    connection.speakout_reader = hiredis.Reader(replyError=connection._parser.parse_error)


def _exchange(connection, packed: bytes):
    """Send one packed command and read its reply with hiredis, past redis-py's send and read
    methods (their checks cost more than the exchange)."""
    if connection._sock is None:
        _connect(connection)
    sock, reader = connection._sock, connection.speakout_reader
    try:
        sock.sendall(packed)
        reply = reader.gets()
        while reply is False:
            data = sock.recv(65536)
            if not data:
                raise ConnectionResetError("Redis closed the connection")
            reader.feed(data)
            reply = reader.gets()
    except BaseException as error:
        connection.disconnect()  # a command half sent or a reply half read: never reused
        if isinstance(error, OSError):
            kind = RedisTimeoutError if isinstance(error, BlockingIOError) else RedisConnectionError
            raise kind(f"Redis: {error}") from error
        raise
    if isinstance(reply, ResponseError):
        raise reply
    return reply


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._own = threading.local()  # a connection per thread and pool, for reads
        self._packed: dict[tuple, bytes] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def get(self, key, default):
        value = self._ask("GET", key)
        return default if value is None else self._serializer.loads(value)

    def get_many(self, keys):
        if not keys:  # Redis refuses an MGET of nothing
            return {}
        values = self._ask("MGET", *keys)
        loads = self._serializer.loads
        return {key: loads(value) for key, value in zip(keys, values, strict=True) if value is not None}

    def values(self, keys) -> list:
        """The values under these keys (made already), in order, None where missing: one MGET."""
        if not keys:
            return []
        loads = self._serializer.loads
        return [None if value is None else loads(value) for value in self._ask("MGET", *keys)]

    def _ask(self, *command, write=False):
        """A command on a connection of this thread's own, packed once."""
        pool = self._get_connection_pool(write)
        own = self._own.__dict__
        connection = own.get(id(pool))
        if connection is None or connection.pid != _process["pid"]:
            connection = own[id(pool)] = pool.connection_class(**pool.connection_kwargs)
        packed = self._packed.get(command)
        if packed is None:
            if len(self._packed) > 1024:  # a bound, not an LRU
                self._packed.clear()
            packed = self._packed[command] = b"".join(connection.pack_command(*command))
        try:
            return _exchange(connection, packed)
        except RedisConnectionError:  # dropped since (a restart): once more on a new connection
            return _exchange(connection, packed)

    def incr(self, key, delta):
        # Every approved reply bumps its thread's page version twice: EVALSHA sent like the
        # reads, past redis-py's command path, which cost several times the round trip.
        try:
            value = self._ask("EVALSHA", _INCR_EXISTING_SHA, 1, key, delta, write=True)
        except NoScriptError:  # Redis restarted or its scripts were flushed: load it once more
            self.get_client(key, write=True).script_load(_INCR_EXISTING)
            value = self._ask("EVALSHA", _INCR_EXISTING_SHA, 1, key, delta, write=True)
        if value is None:
            raise ValueError(f"Key {key!r} not found.")
        return value


class SharedClientRedisCache(RedisCache):
    """``CACHES["default"]["BACKEND"] = "speakout.net.rediscache.SharedClientRedisCache"``."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def reader(self, keys) -> Callable[[], list]:
        """A function that reads the values under these keys, in order (None where missing),
        with one MGET a call; their keys are made once, here (a page-cache hit calls it)."""
        return functools.partial(self._cache.values, [self.make_key(key) for key in keys])

    def validate_key(self, key):
        pass  # Django's check of keys memcached would refuse walks every character of every key
