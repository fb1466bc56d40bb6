"""Every operator limit of the federation is an environment variable, documented in
docs/configuration.md, and the environment reaches the app's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from speakout.federation.app_settings import AppSettings, app_settings

ROOT = Path(__file__).resolve().parents[2]
LIMITS = [name for name, value in vars(AppSettings).items() if isinstance(value, property)]


def test_every_limit_is_a_setting_with_the_app_s_default_and_documented():
    documented = (ROOT / "docs" / "configuration.md").read_text()
    assert len(LIMITS) >= 10
    for name in LIMITS:
        setting = f"{AppSettings.prefix}{name}"
        assert getattr(settings, setting) == getattr(app_settings, name), setting
        assert f"| `{setting}` |" in documented, setting


def test_the_environment_sets_a_limit(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "speakout.settings",
        "SPEAKOUT_DATA_DIR": str(tmp_path),
        "SPEAKOUT_FEDERATION_DELIVERY_ATTEMPTS": "3",
    }
    script = (
        "import django; django.setup();"
        "from speakout.federation.app_settings import app_settings; print(app_settings.DELIVERY_ATTEMPTS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["3"]
