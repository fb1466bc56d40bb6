"""A real OpenID Connect provider on loopback: tests/projects/oidc_provider (django-oauth-toolkit)
run by ``runserver`` as a separate process, with an RS256 key generated here, one user and one
client application whose redirect URI is Speakout's callback on the live server.

It listens on 127.0.0.2 (still loopback) while Speakout's live server is on localhost, so the
browser keeps the two sites' cookies apart, as it would for two real sites.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.server import free_port, port_accepts_connections, stop_process

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.2"
START_TIMEOUT = 60.0


@dataclass
class OIDCProvider:
    base_url: str
    client_id: str
    client_secret: str
    username: str
    password: str
    name: str
    email: str

    @property
    def server_url(self) -> str:
        """What allauth's SocialApp needs: the address before /.well-known/openid-configuration."""
        return f"{self.base_url}/o"


def _rsa_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def start_provider(directory: Path, redirect_uri: str):
    """Prepare and start the provider; return (OIDCProvider, the server's Popen)."""
    port = free_port(HOST)
    provider = OIDCProvider(
        base_url=f"http://{HOST}:{port}",
        client_id=secrets.token_hex(8),
        client_secret=secrets.token_urlsafe(24),
        username="rosa",
        password=secrets.token_urlsafe(12),
        name="Rosa Parkes",
        email="rosa@provider.example",
    )
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SPEAKOUT_"))},
        "DJANGO_SETTINGS_MODULE": "tests.projects.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(directory / "provider.sqlite3"),
        "OIDC_RSA_PRIVATE_KEY": _rsa_key_pem(),
        "PYTHONPATH": str(ROOT),
    }
    prepared = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.projects.oidc_provider.prepare",
            redirect_uri,
            provider.client_id,
            provider.client_secret,
            provider.username,
            provider.password,
            provider.name,
            provider.email,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    log = open(directory / "provider.log", "w")  # noqa: SIM115  (closed by the fixture)
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", "--noreload", f"{HOST}:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not port_accepts_connections(port, HOST):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            pytest.fail(f"The OIDC provider did not start:\n{(directory / 'provider.log').read_text()}")
        time.sleep(0.2)
    return provider, process, log


@pytest.fixture
def oidc_provider(live_server, tmp_path):
    provider, process, log = start_provider(tmp_path, f"{live_server.url}/accounts/oidc/loopback/login/callback/")
    try:
        yield provider
    finally:
        stop_process(process)
        log.close()
