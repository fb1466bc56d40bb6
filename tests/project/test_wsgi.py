"""What the web processes' entry point (speakout/wsgi.py, loaded by granian) sets up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_web_processes_switch_threads_every_half_millisecond(tmp_path):
    # A process of its own: the switch interval is the whole interpreter's.
    env = {**os.environ, "SPEAKOUT_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "speakout.settings"}
    env.pop("DATABASE_URL", None)
    code = "import sys; before = sys.getswitchinterval(); import speakout.wsgi; print(before, sys.getswitchinterval())"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    before, after = (float(value) for value in out.stdout.split())
    assert before == 0.005  # Python's default
    assert after == 0.0005


def test_the_web_processes_freeze_what_start_up_made(tmp_path):
    """A web process settles as the worker does (speakout/memory.py): its full garbage collections
    leave the apps' objects alone."""
    env = {**os.environ, "SPEAKOUT_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "speakout.settings"}
    env.pop("DATABASE_URL", None)
    code = (
        "import gc; before = gc.get_freeze_count(); import speakout.wsgi\n"
        "from django.urls import get_resolver\n"
        "print(before, gc.get_freeze_count(), 'url_patterns' in get_resolver().__dict__)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    before, after, urls_loaded = out.stdout.split()
    assert before == "0"
    assert int(after) > 100_000  # Django, Wagtail and allauth, loaded
    assert urls_loaded == "True"
