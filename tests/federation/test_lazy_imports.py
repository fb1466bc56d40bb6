"""A web process that never federates does not carry the signature and key libraries
(cryptography, http-message-signatures: about 8 MB of the web process memory target)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STARTUP = """
import sys
from django.core.wsgi import get_wsgi_application
from django.urls import reverse
from wagtail import hooks

get_wsgi_application()
reverse("federation:inbox")  # loads every URL module, as a process's first request does
hooks.search_for_hooks()  # every app's wagtail_hooks, as the admin's first request does
loaded = sorted(name for name in sys.modules if name.startswith(("cryptography", "http_message_signatures")))
assert not loaded, loaded

from speakout.federation import keys, signatures  # noqa: F401, E402

key = keys._new_key()
assert "BEGIN PUBLIC KEY" in key.public_pem
assert "http_message_signatures" in sys.modules
print("deferred, then loaded")
"""


def test_the_signature_libraries_load_on_first_use(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "speakout.settings", "SPEAKOUT_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", STARTUP], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "deferred, then loaded" in result.stdout
