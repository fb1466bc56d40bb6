"""allauth's WebAuthn module (and with it fido2 and cryptography, about 11 MB) loads on first use,
not with the URL configuration; and a module deferred so loads once, whichever threads ask."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from speakout.identity import lazy

ROOT = Path(__file__).resolve().parents[2]
RUNS: list[int] = []  # appended to by the probe module's code, each time it runs
THREADS = 8
ASKING = threading.Semaphore(0)  # released by each thread just before it asks the probe

WEBAUTHN_ON_FIRST_USE = """
import sys
import django
from django.urls import reverse

django.setup()
reverse("account_login")  # loads every URL module, as a process's first request does
assert "allauth.mfa.webauthn.internal.flows" in sys.modules, "allauth's MFA views are loaded"
assert "fido2" not in sys.modules, sorted(name for name in sys.modules if name.startswith("fido2"))

from django.contrib.auth import get_user_model
from allauth.mfa.webauthn.internal import auth

payload = auth.build_user_payload(get_user_model()(pk=7, username="ada", email="ada@example.org"))
assert "fido2.server" in sys.modules and payload.name, payload
print("deferred, then loaded")
"""


def test_webauthn_loads_on_first_use_not_with_the_urls(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "speakout.settings", "SPEAKOUT_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", WEBAUTHN_ON_FIRST_USE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "deferred, then loaded" in result.stdout


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A module whose code takes a moment to run and counts its runs in RUNS."""
    name = f"lazy_probe_{os.getpid()}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            import sys

            test = sys.modules["tests.identity.test_lazy"]
            test.RUNS.append(1)
            for _thread in range(test.THREADS):  # runs until every thread has come to ask
                assert test.ASKING.acquire(timeout=10)
            VALUE = 42
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    RUNS.clear()
    yield name
    sys.modules.pop(name, None)


def test_a_deferred_module_runs_once_for_threads_asking_together(probe):
    assert lazy.defer(probe)
    module = sys.modules[probe]
    assert getattr(module, "__wrapped__", None) is None and RUNS == []  # dunders do not load it
    seen, failures = [], []

    def ask():
        ASKING.release()
        try:
            seen.append(module.VALUE)
        except Exception as error:  # a half-run module answers AttributeError
            failures.append(error)

    threads = [threading.Thread(target=ask) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and seen == [42] * THREADS
    assert RUNS == [1]
    assert type(module) is type(sys)  # an ordinary module from then on
    assert not lazy.defer(probe)  # already there: left alone
