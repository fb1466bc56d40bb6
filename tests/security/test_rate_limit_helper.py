"""The one rate-limit helper (speakout.net.ratelimit): atomic counts in the shared cache, so
requests at once can never all take the last place, and uses given back when the action did not
happen."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from django.core.cache import cache

from speakout.net import ratelimit


def setup_function():
    cache.clear()


def test_a_window_allows_its_limit_then_refuses():
    assert [ratelimit.allow("t:a", 3, 60) for _ in range(5)] == [True, True, True, False, False]
    assert ratelimit.used("t:a") == 5
    assert all(ratelimit.allow("t:b", 0, 60) for _ in range(10)), "0 means no limit"


def test_an_aligned_window_starts_again_with_the_clock():
    hour = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert ratelimit.allow("t:h", 1, 3600, aligned=True, now=hour)
    assert not ratelimit.allow("t:h", 1, 3600, aligned=True, now=hour + timedelta(minutes=59))
    assert ratelimit.allow("t:h", 1, 3600, aligned=True, now=hour + timedelta(hours=1))


def test_a_use_given_back_frees_its_place_and_a_pause_runs_once():
    ratelimit.hit("t:c", 60)
    ratelimit.unhit("t:c")
    assert ratelimit.used("t:c") == 0
    ratelimit.unhit("t:never-counted")  # nothing to give back: no error
    assert ratelimit.pause("t:p", 60) and not ratelimit.pause("t:p", 60) and ratelimit.paused("t:p")
    ratelimit.end_pauses(["t:p"])
    assert not ratelimit.paused("t:p")


def test_concurrent_uses_never_exceed_the_limit():
    results: list[bool] = []
    lock = threading.Lock()

    def use():
        allowed = ratelimit.allow("t:race", 5, 60)
        with lock:
            results.append(allowed)

    workers = [threading.Thread(target=use) for _ in range(40)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results.count(True) == 5 and len(results) == 40
