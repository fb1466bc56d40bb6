"""The Redis cache backend (speakout/net/rediscache.py) against a real Redis, as the reliability
tests use (``SPEAKOUT_TEST_REDIS_URL``)."""

from __future__ import annotations

import os
import uuid

import pytest

from speakout.net.rediscache import SharedClientRedisCache

REDIS_URL = os.environ.get("SPEAKOUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def redis_cache():
    cache = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_many(["counter", "missing", "text"])


def test_incr_adds_to_a_key_in_one_round_trip(redis_cache, monkeypatch):
    redis_cache.set("counter", 5, timeout=60)
    client = redis_cache._cache.get_client(write=True)
    commands = []
    original = client.execute_command

    def counting(*args, **kwargs):
        commands.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", counting)
    assert redis_cache.incr("counter") == 6
    assert redis_cache.incr("counter", 4) == 10
    assert len(commands) == 2, commands  # one script call each (EVALSHA, or EVAL the first time)
    assert redis_cache.get("counter") == 10


def test_incr_of_a_missing_key_raises_and_creates_nothing(redis_cache):
    with pytest.raises(ValueError):
        redis_cache.incr("missing")
    assert redis_cache.get("missing") is None
    assert redis_cache.add("missing", 1) is True, "still absent after the failed incr"


def test_decr_and_the_rest_of_the_backend_are_djangos(redis_cache):
    redis_cache.set("counter", 3)
    assert redis_cache.decr("counter") == 2
    redis_cache.set("text", {"a": 1})
    assert redis_cache.get_many(["text", "counter"]) == {"text": {"a": 1}, "counter": 2}


@pytest.fixture
def another_process(redis_cache):
    """The same cache as another web process sees it: its own backend, its own connections."""
    return SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": redis_cache.key_prefix})


def tracked(cache, *keys) -> dict:
    """The tracked values of these keys, missing ones left out (as ``get_many`` gives them)."""
    return {key: value for key, value in zip(keys, cache.get_values_tracked(keys), strict=True) if value is not None}


def reads_from_redis(cache, monkeypatch) -> list:
    """Record the reads the tracked values send to Redis (MGETs), not the polls for notices."""
    sent = []
    tracked = cache._tracked
    connection = tracked._connected()
    original = connection.send_command

    def recording(*args, **kwargs):
        sent.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(connection, "send_command", recording)
    return sent


def test_tracked_values_are_kept_and_follow_a_change_made_elsewhere(redis_cache, another_process, monkeypatch):
    redis_cache.set("counter", 1, timeout=60)
    assert tracked(redis_cache, "counter", "missing") == {"counter": 1}
    sent = reads_from_redis(redis_cache, monkeypatch)
    for _ in range(3):
        assert tracked(redis_cache, "counter") == {"counter": 1}
    assert sent == [], "a kept value is read without asking Redis"

    another_process.incr("counter")
    # Any later command of the writer is answered after Redis has sent its notices (as the
    # second bump of versions.bump is, before a reply post is answered).
    another_process.get("counter")
    assert tracked(redis_cache, "counter") == {"counter": 2}
    assert [args[0] for args in sent] == ["MGET"], "read again once, after the notice"
    another_process.set("counter", 7, timeout=60)
    another_process.get("counter")
    assert tracked(redis_cache, "counter") == {"counter": 7}


def test_tracked_values_follow_a_flush_and_a_deletion():
    # A database of its own: the flush must not touch what tests running beside it keep.
    url = REDIS_URL.rsplit("/", 1)[0] + "/12"
    redis_cache = SharedClientRedisCache(url, {"KEY_PREFIX": "flushed"})
    another_process = SharedClientRedisCache(url, {"KEY_PREFIX": "flushed"})
    redis_cache.set("counter", 1, timeout=60)
    redis_cache.set("text", {"a": 1}, timeout=60)
    assert tracked(redis_cache, "counter", "text") == {"counter": 1, "text": {"a": 1}}
    another_process.delete("text")
    another_process.get("counter")
    assert tracked(redis_cache, "counter", "text") == {"counter": 1}
    another_process.clear()  # FLUSHDB: one notice for everything
    another_process.get("counter")
    assert tracked(redis_cache, "counter") == {}


def test_a_lost_tracking_connection_forgets_what_it_kept(redis_cache, another_process):
    redis_cache.set("counter", 1, timeout=60)
    assert tracked(redis_cache, "counter") == {"counter": 1}
    tracking_id = redis_cache._tracked._connection.send_command("CLIENT", "ID")
    tracking_id = redis_cache._tracked._connection.read_response()
    killer = another_process._cache.get_client(write=True)
    killer.client_kill_filter(_id=tracking_id)
    another_process.incr("counter")  # no notice can reach the killed connection
    try:
        seen = tracked(redis_cache, "counter")
    except Exception:  # the broken connection is reported once; versions.read then reads plainly
        seen = tracked(redis_cache, "counter")
    assert seen == {"counter": 2}
