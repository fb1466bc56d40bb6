"""The Redis cache backend (speakout/net/rediscache.py) against a real Redis, as the reliability
tests use (``SPEAKOUT_TEST_REDIS_URL``)."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
import uuid
import warnings

import hiredis
import pytest
from redis.exceptions import TimeoutError as RedisTimeoutError

from speakout.net import rediscache
from speakout.net.rediscache import SharedClientRedisCache

REDIS_URL = os.environ.get("SPEAKOUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def redis_cache():
    cache = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_many(["counter", "missing", "text"])


def test_incr_adds_to_a_key_in_one_round_trip(redis_cache, monkeypatch):
    redis_cache.set("counter", 5, timeout=60)
    redis_cache.incr("counter", 0)  # this thread's connection made, the script loaded
    sent = []
    original = rediscache._exchange

    def counting(connection, packed):
        sent.append(packed)
        return original(connection, packed)

    monkeypatch.setattr(rediscache, "_exchange", counting)
    assert redis_cache.incr("counter") == 6
    assert redis_cache.incr("counter", 4) == 10
    assert len(sent) == 2, sent  # one script call each
    assert redis_cache.get("counter") == 10


def test_incr_loads_its_script_again_after_redis_lost_it(redis_cache):
    redis_cache.set("counter", 5, timeout=60)
    redis_cache._cache.get_client(write=True).script_flush()  # as after a restart
    assert redis_cache.incr("counter") == 6
    assert redis_cache.incr("counter") == 7


def test_incr_of_a_missing_key_raises_and_creates_nothing(redis_cache):
    with pytest.raises(ValueError):
        redis_cache.incr("missing")
    assert redis_cache.get("missing") is None
    assert redis_cache.add("missing", 1) is True, "still absent after the failed incr"


def test_keys_are_not_checked_for_memcached(redis_cache):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        redis_cache.set("text", "a key memcached would refuse", timeout=60)
        assert redis_cache.get_many(["text", "missing"]) == {"text": "a key memcached would refuse"}
        redis_cache.set("a key\nwith spaces", 1, timeout=60)
        assert redis_cache.get("a key\nwith spaces") == 1
        redis_cache.delete("a key\nwith spaces")


def test_decr_and_the_rest_of_the_backend_are_djangos(redis_cache):
    redis_cache.set("counter", 3)
    assert redis_cache.decr("counter") == 2
    redis_cache.set("text", {"a": 1})
    assert redis_cache.get_many(["text", "counter"]) == {"text": {"a": 1}, "counter": 2}


def test_one_client_per_pool_and_every_process_reads_what_another_wrote(redis_cache):
    """The client is built once per connection pool (the private Django attributes it relies on
    still exist), and nothing is kept between reads: another process's change is read at once."""
    assert redis_cache._cache.get_client() is redis_cache._cache.get_client()
    another_process = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": redis_cache.key_prefix})
    redis_cache.set("counter", 1, timeout=60)
    assert redis_cache.get_many(["counter"]) == {"counter": 1}
    another_process.incr("counter")
    assert redis_cache.get_many(["counter", "missing"]) == {"counter": 2}


def test_replies_are_parsed_by_hiredis(redis_cache):
    """Every page-cache hit parses one Redis reply: hiredis (the redis extra) does it in C, about a
    sixth of a hit's web CPU less than redis-py's own parser (docs/production.md)."""
    redis_cache.set("text", "a", timeout=60)
    assert redis_cache.get("text") == "a"
    pool = redis_cache._cache._get_connection_pool(False)
    connection = redis_cache._cache._own.__dict__[id(pool)]
    assert isinstance(connection.speakout_reader, hiredis.Reader)


def test_reads_are_one_command_on_a_connection_of_the_threads_own(redis_cache, monkeypatch):
    """A get or multi-get (every page-cache hit's version check) goes past the pool and redis-py's
    command path: one GET or MGET on a connection kept per thread, so two threads never share one."""
    redis_cache.set_many({"text": "a", "counter": 1}, timeout=60)
    redis_cache.get_many(["text"])  # connected
    pool = redis_cache._cache._get_connection_pool(False)
    sent = []
    original = rediscache._exchange

    def sending(connection, packed):
        sent.append(packed)
        return original(connection, packed)

    monkeypatch.setattr(rediscache, "_exchange", sending)
    assert redis_cache.get_many(["text", "missing", "counter"]) == {"text": "a", "counter": 1}
    assert redis_cache.get_many(["text", "missing", "counter"]) == {"text": "a", "counter": 1}
    assert redis_cache.get("text") == "a" and redis_cache.get("missing", "default") == "default"
    assert [command.split(b"\r\n")[2] for command in sent] == [b"MGET", b"MGET", b"GET", b"GET"]
    own = redis_cache._cache._own.__dict__[id(pool)]
    assert own not in pool._available_connections and own not in pool._in_use_connections

    seen = {}

    def other_thread():
        seen["values"] = redis_cache.get_many(["text"])
        seen["connection"] = redis_cache._cache._own.__dict__[id(pool)]

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen["values"] == {"text": "a"}
    assert seen["connection"] is not own


def test_a_reader_reads_the_current_values_in_order(redis_cache):
    """What a page-cache hit calls for its versions: the keys made once, the values read afresh
    on every call, in order, None where missing."""
    redis_cache.set_many({"text": "a", "counter": 1}, timeout=60)
    read = redis_cache.reader(["counter", "missing", "text"])
    assert read() == [1, None, "a"]
    redis_cache.incr("counter")
    redis_cache.set("missing", 3, timeout=60)
    assert read() == [2, 3, "a"]


def test_no_keys_read_nothing(redis_cache):
    """Redis refuses an MGET of no keys; a caller with nothing to read (a reply posted with no
    client key and no account, as an import or a command does) gets nothing, not an error."""
    assert redis_cache.get_many([]) == {}
    assert redis_cache.reader([])() == []


def test_get_many_reconnects_when_redis_dropped_its_connection(redis_cache):
    """A connection Redis closed (a restart, a timeout on its side) costs no failed read."""
    redis_cache.set("counter", 7, timeout=60)
    assert redis_cache.get_many(["counter"]) == {"counter": 7}
    pool = redis_cache._cache._get_connection_pool(False)

    def drop():
        host, port = redis_cache._cache._own.__dict__[id(pool)]._sock.getsockname()[:2]
        assert redis_cache._cache.get_client().client_kill(f"{host}:{port}")

    drop()
    redis_cache.incr("counter")
    assert redis_cache.get_many(["counter", "missing"]) == {"counter": 8}
    drop()
    assert redis_cache.get("counter") == 8


def _silent_redis():
    """A server that answers redis-py's handshake (HELLO refused, so RESP2; +OK to the rest) and
    never a read: Redis stuck. Its port, and a function that stops it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def answer(connection):
        lines: list[bytes] = []
        while not stop.is_set():
            data = connection.recv(4096)
            if not data:
                return
            lines += data.split(b"\r\n")[:-1]  # commands arrive whole: one small write each
            while lines:
                count = int(lines[0][1:])  # *<arguments>, then $<length> and the argument, each
                name, lines = lines[2].upper(), lines[1 + 2 * count :]
                if name in (b"GET", b"MGET"):
                    continue  # stuck
                connection.sendall(b"-ERR unknown command\r\n" if name == b"HELLO" else b"+OK\r\n")

    def serve():
        while not stop.is_set():
            try:
                connection, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()

    def close():
        stop.set()
        listener.close()

    return listener.getsockname()[1], close


def test_a_read_redis_never_answers_ends_with_an_error_not_a_hang():
    """The connections a hit reads on are blocking sockets (no poll before each send and receive)
    with the timeout kept by the kernel, so a Redis that stops answering still frees the thread."""
    port, close = _silent_redis()
    cache = SharedClientRedisCache(f"redis://127.0.0.1:{port}/0", {"OPTIONS": {"socket_timeout": 0.3}})
    outcome = {}

    def read():
        started = time.monotonic()
        try:
            cache.get_many(["text"])
        except Exception as error:
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    try:
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "the read still waits"
        assert isinstance(outcome.get("error"), RedisTimeoutError) and outcome["seconds"] < 1, outcome
    finally:
        close()


def test_the_reading_connection_is_blocking_with_the_kernels_timeout(redis_cache):
    redis_cache.get_many(["text"])
    pool = redis_cache._cache._get_connection_pool(False)
    sock = redis_cache._cache._own.__dict__[id(pool)]._sock
    assert sock.gettimeout() is None  # blocking: each send and receive is one system call
    seconds, microseconds = struct.unpack("@ll", sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16))
    assert (seconds, microseconds) == (5, 0)  # redis-py's default socket timeout
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, 16) == sock.getsockopt(
        socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16
    )
