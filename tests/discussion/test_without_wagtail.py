"""The discussion app runs in a project without Wagtail and never imports it (DESIGN.md)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_discussion_runs_in_a_project_without_wagtail():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests/projects/discussion_only/check.py")],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "discussion works without Wagtail" in result.stdout
    assert "embed works without Wagtail" in result.stdout
    assert "moderation works without Wagtail" in result.stdout


def test_no_discussion_module_imports_wagtail():
    sources = (ROOT / "speakout/discussion").rglob("*.py")
    offenders = [str(path) for path in sources if "wagtail" in path.read_text()]
    assert offenders == []


def test_only_the_embed_app_s_wagtail_hooks_import_wagtail():
    sources = (ROOT / "speakout/embed").rglob("*.py")
    offenders = [str(path) for path in sources if "wagtail" in path.read_text() and path.name != "wagtail_hooks.py"]
    assert offenders == []
