"""What mail tests share: a real SMTP server (aiosmtpd) on a free loopback port that keeps what
it receives, and can be stopped and started again on the same port."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

# aiosmtpd logs every connection at INFO from its server thread, which can outlive a test's
# captured output ("--- Logging error ---" in the run's output); its warnings still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)


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
