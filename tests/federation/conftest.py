from __future__ import annotations

import pytest

from speakout.federation.models import FederationSettings

from .helpers import BASE_URL, REMOTE, RemoteKey


@pytest.fixture
def federation(db, settings):
    settings.BASE_URL = BASE_URL
    config = FederationSettings.load()
    config.enabled = True
    config.username = "reports"
    config.save()
    return config


@pytest.fixture
def bob(db):
    return RemoteKey(f"{REMOTE}/users/bob")
