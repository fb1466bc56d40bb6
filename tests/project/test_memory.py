"""glibc malloc settings applied when a web process or the worker starts (speakout/memory.py)."""

from __future__ import annotations

import platform

import pytest

from speakout import memory


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(memory, "_done", False)
    for _parameter, variable, _value in memory.SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_settings_are_applied_once_on_glibc(fresh):
    assert platform.libc_ver()[0] == "glibc"  # what Speakout runs on in production
    assert memory.tune() is True
    assert memory.tune() is False  # once per process


def test_switched_off_by_the_environment(fresh):
    fresh.setenv("SPEAKOUT_MALLOC_TUNING", "no")
    assert memory.tune() is False


def test_glibc_variables_win(fresh, monkeypatch):
    calls = []

    class FakeMallopt:
        def __init__(self):
            self.argtypes = self.restype = None

        def __call__(self, parameter, value):
            calls.append((parameter, value))
            return 1

    libc = type("Libc", (), {"mallopt": FakeMallopt()})()
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: libc)
    fresh.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.tune() is True
    assert (memory.M_ARENA_MAX, 2) not in calls
    assert (memory.M_MMAP_THRESHOLD, 1024 * 1024) in calls


def test_a_page_is_not_mapped_and_trimmed_per_request():
    # A report page's strings (up to 250 KB) come from the heap: thresholds below that cost about
    # 3 ms more CPU a signed-in page (of 8-10) in mmap, munmap and trimming.
    values = {parameter: value for parameter, _variable, value in memory.SETTINGS}
    assert values[memory.M_MMAP_THRESHOLD] >= 4 * 250 * 1024
    assert values[memory.M_TRIM_THRESHOLD] >= 4 * values[memory.M_MMAP_THRESHOLD]
