"""Fixtures of the outbox tests: a clean cache (the send limit counts in it), the locmem mail
backend by default, a backend that always fails, and a real SMTP server (aiosmtpd) on a free
loopback port."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache

# aiosmtpd logs every connection at INFO from its server thread, which can outlive a test's
# captured output ("--- Logging error ---" in the run's output); its warnings still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def outbox_settings(settings):
    cache.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Speakout <speakout@example.org>"
    settings.SPEAKOUT_EMAIL_RATE_PER_MINUTE = 60
    yield settings
    cache.clear()


@pytest.fixture
def failing_backend(settings):
    settings.EMAIL_BACKEND = "tests.outbox.backends.FailingBackend"
    return settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CollectingHandler:
    """Keeps every message, and the client address and port of the connection it came over."""

    def __init__(self):
        self.envelopes = []
        self.connections = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.connections.append(session.peer)
        return "250 Message accepted for delivery"


@dataclass
class SMTPServer:
    """An aiosmtpd server that can be stopped and started again on the same port."""

    port: int
    handler: CollectingHandler = field(default_factory=CollectingHandler)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def envelopes(self):
        return self.handler.envelopes


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server; Django's SMTP backend points at it, without TLS or credentials."""
    server = SMTPServer(port=free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
