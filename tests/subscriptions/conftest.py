"""Fixtures of the subscriptions tests: locmem mail and a clean cache for every test
(``outbox_settings``); the subscription factory, the real SMTP server and the discussion's
fixtures live in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _outbox(outbox_settings):
    return outbox_settings
