"""The shared cache in a real Redis, as production runs it (``SPEAKOUT_TEST_REDIS_URL``), and the
commands a test sends to it: for the tests that count round trips."""

from __future__ import annotations

import os
import uuid

from django.core.cache import caches

from speakout.net import rediscache

REDIS_URL = os.environ.get("SPEAKOUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def redis_in_settings(settings):
    """The default cache in Redis and the page cache's versions there too, as in production."""
    settings.CACHES = {
        "default": {
            "BACKEND": "speakout.net.rediscache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
        "template_fragments": {"BACKEND": "speakout.net.sharedreads.FragmentCache"},  # as in production
    }
    settings.SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = ""
    return caches["default"]


def forget(shared) -> None:
    """Delete only this test's keys: clear() would empty the whole Redis database (FLUSHDB), under
    the servers of tests running beside this one that keep their rate limits and versions there."""
    client = shared._cache.get_client(write=True)
    for key in client.scan_iter(f"{shared.key_prefix}:*"):
        client.delete(key)


def commands_of(redis_cache, monkeypatch) -> list[str]:
    """The commands sent to Redis, through redis-py's client or on the backend's own connections."""
    connection_class = redis_cache._cache._get_connection_pool(True).connection_class
    sent: list[str] = []
    original, exchange = connection_class.send_packed_command, rediscache._exchange

    def counting(connection, command, *args, **kwargs):
        packed = b"".join(bytes(part) for part in ([command] if isinstance(command, bytes) else command))
        sent.append(packed.split(b"\r\n")[2].decode())
        return original(connection, command, *args, **kwargs)

    def exchanging(connection, packed):
        sent.append(packed.split(b"\r\n")[2].decode())
        return exchange(connection, packed)

    monkeypatch.setattr(connection_class, "send_packed_command", counting)
    monkeypatch.setattr(rediscache, "_exchange", exchanging)
    return sent
