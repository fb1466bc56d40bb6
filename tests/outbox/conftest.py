"""Fixtures of the outbox tests: the locmem mail backend by default (``outbox_settings``, in
tests/conftest.py, with the real SMTP server ``smtp_server``) and a backend that always fails."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _outbox(outbox_settings):
    return outbox_settings


@pytest.fixture
def failing_backend(settings):
    settings.EMAIL_BACKEND = "tests.outbox.backends.FailingBackend"
    return settings
