"""The worker lowers its own CPU priority by SPEAKOUT_WORKER_NICE (speakout/worker.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = (
    "import os, django; django.setup()\n"
    "from speakout.worker import lower_priority\n"
    "before = os.getpriority(os.PRIO_PROCESS, 0)\n"
    "after = lower_priority()\n"
    "print(before, after, os.getpriority(os.PRIO_PROCESS, 0))\n"
)


def niceness(tmp_path, value: str | None) -> tuple[int, int, int]:
    env = {key: item for key, item in os.environ.items() if key not in ("SPEAKOUT_WORKER_NICE", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="speakout.settings", SPEAKOUT_DATA_DIR=str(tmp_path))
    if value is not None:
        env["SPEAKOUT_WORKER_NICE"] = value
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    before, returned, after = (int(word) for word in out.split())
    return before, returned, after


def test_the_worker_adds_the_niceness_from_the_environment(tmp_path):
    before, returned, after = niceness(tmp_path, "5")
    assert after == returned == min(19, before + 5)


def test_without_the_variable_the_priority_is_left_alone(tmp_path):
    before, returned, after = niceness(tmp_path, None)
    assert after == returned == before
    before, returned, after = niceness(tmp_path, "0")
    assert after == returned == before
