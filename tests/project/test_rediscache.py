"""The Redis cache backend (speakout/net/rediscache.py) against a real Redis, as the reliability
tests use (``SPEAKOUT_TEST_REDIS_URL``)."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import redis

from speakout.net import rediscache
from speakout.net.rediscache import SharedClientRedisCache, TrackedValues, TrackingUnavailable

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


def read_as_versions_do(cache, key) -> dict:
    """As ``versions.read_values``: tracked, or plainly when tracking is unavailable."""
    try:
        return tracked(cache, key)
    except Exception:
        return cache.get_many([key])


def test_a_lost_tracking_connection_forgets_what_it_kept(redis_cache, another_process):
    redis_cache.set("counter", 1, timeout=60)
    assert tracked(redis_cache, "counter") == {"counter": 1}
    connection = redis_cache._tracked._connection
    connection.send_command("CLIENT", "ID")
    another_process._cache.get_client(write=True).client_kill_filter(_id=connection.read_response())
    another_process.incr("counter")  # no notice can reach the killed connection
    assert read_as_versions_do(redis_cache, "counter") == {"counter": 2}
    with pytest.raises(TrackingUnavailable):  # for a few seconds reads go the plain way
        tracked(redis_cache, "counter")

    redis_cache._tracked._retry_at = time.monotonic() - 1  # the pause is over
    assert tracked(redis_cache, "counter") == {"counter": 2}, "read afresh on a new connection"
    another_process.incr("counter")
    another_process.get("counter")
    assert tracked(redis_cache, "counter") == {"counter": 3}, "and tracked again"


def test_an_unreachable_redis_is_not_asked_again_on_every_read(monkeypatch):
    unreachable = SharedClientRedisCache("redis://127.0.0.1:1/0", {})
    attempts = []
    original = TrackedValues._connected
    monkeypatch.setattr(TrackedValues, "_connected", lambda self: attempts.append(1) or original(self))
    with pytest.raises(redis.ConnectionError):
        unreachable.get_values_tracked(("counter",))
    for _ in range(3):
        with pytest.raises(TrackingUnavailable):
            unreachable.get_values_tracked(("counter",))
    assert len(attempts) == 1


def test_a_redis_that_refuses_tracking_is_not_asked_again(redis_cache, monkeypatch, caplog):
    def refused(self, connection):
        raise redis.ResponseError("unknown command 'CLIENT TRACKING'")

    monkeypatch.setattr(TrackedValues, "_track", refused)
    redis_cache.set("counter", 1, timeout=60)
    with pytest.raises(redis.ResponseError):
        redis_cache.get_values_tracked(("counter",))
    assert "SPEAKOUT_REDIS_TRACKING=no" in caplog.text
    with pytest.raises(TrackingUnavailable):
        redis_cache.get_values_tracked(("counter",))
    assert redis_cache._tracked._retry_at == float("inf"), "never tried again in this process"
    assert read_as_versions_do(redis_cache, "counter") == {"counter": 1}


def test_kept_values_are_bounded(redis_cache, monkeypatch):
    monkeypatch.setattr(rediscache, "KEPT_VALUES", 2)
    for number in range(4):
        redis_cache.set(f"counter{number}", number, timeout=60)
    for number in range(4):
        assert tracked(redis_cache, f"counter{number}") == {f"counter{number}": number}
    assert len(redis_cache._tracked._values) <= 2
    assert tracked(redis_cache, "counter0", "counter3") == {"counter0": 0, "counter3": 3}
    redis_cache.delete_many([f"counter{number}" for number in range(4)])


def test_tracking_can_be_switched_off():
    cache = SharedClientRedisCache(
        REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}", "OPTIONS": {"TRACKING": False}}
    )
    assert cache.tracking is False
    cache.set("counter", 1, timeout=60)  # the option is not passed on to redis-py
    assert cache.get("counter") == 1
    cache.delete("counter")
    assert SharedClientRedisCache(REDIS_URL, {}).tracking is True


def test_rules_read_on_every_request_are_kept_and_each_caller_gets_its_own(redis_cache, another_process, monkeypatch):
    """``speakout.net.kept.get``, as the discussion rules, the safety rules, the client keys and
    the staff's names are read: no round trip once kept, a change made by another process seen
    by the next read, and a copy for each caller (a model instance may be changed and saved)."""
    from speakout.discussion.models import DiscussionSettings
    from speakout.net import kept

    monkeypatch.setattr(kept, "cache", redis_cache)
    redis_cache.set("text", DiscussionSettings(pk=1, hold_words="pineapple"), timeout=60)
    first = kept.get("text")
    assert first.hold_words == "pineapple"
    sent = reads_from_redis(redis_cache, monkeypatch)
    first.hold_words = "changed by one request, not saved"
    second = kept.get("text")
    assert second is not first and second.hold_words == "pineapple"
    assert sent == [], "a kept value is read without asking Redis"

    another_process.set("text", DiscussionSettings(pk=1, hold_words="mango"), timeout=60)
    another_process.get("text")  # answered after Redis has sent its notices
    assert kept.get("text").hold_words == "mango"
    another_process.delete("text")
    another_process.get("counter")
    assert kept.get("text") is None


def test_a_cache_without_tracking_is_read_the_plain_way(monkeypatch):
    from django.core.cache.backends.locmem import LocMemCache

    from speakout.net import kept

    plain = LocMemCache("kept-test", {})
    monkeypatch.setattr(kept, "cache", plain)
    plain.set("names", {"ada"})
    assert kept.get("names") == {"ada"} and kept.get("missing") is None
