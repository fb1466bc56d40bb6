"""Fedify on loopback: these tests start Speakout (pytest-django's live server) and a Fedify peer
run by Deno (tests/federation/peer.py). The peer does not depend on Speakout's database engine,
so they run once per CI run, with the PostgreSQL pass (as tests/wordpress does)."""

from __future__ import annotations

import pytest

from tests.federation.peer import start_peer
from tests.integration.server import database_kind

collect_ignore = [] if database_kind() == "postgres" else ["test_fedify.py"]


@pytest.fixture(scope="session")
def fedify_peer():
    peer = start_peer()
    yield peer
    peer.stop()
