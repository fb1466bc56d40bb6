"""``speakout bounces``: an SMTP or LMTP listener the mail server hands bounces to (aiosmtpd).

The mail server routes the bounce address's tagged forms (``bounces+...@example.org``) here, for
example with a Postfix transport map (docs/email.md). A recipient that is not a signed return path
of this site is refused at RCPT; a message is answered 250 once its outcome is stored, and 451
(try again later) when it could not be, so the mail server keeps it and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.db import close_old_connections

from . import bounces, verp

logger = logging.getLogger("speakout.outbox.bounces")

# Bounces carry the original message at most; nobody needs 10 MB of it.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def _process(content: bytes, recipients: tuple[str, ...]) -> bounces.Outcome:
    # Runs in an executor thread: the ORM must not run in the event loop's thread.
    close_old_connections()
    try:
        return bounces.process(content, recipients)
    finally:
        close_old_connections()


class BounceHandler:
    """aiosmtpd handler: accepts signed return paths only, records each message's outcome."""

    def __init__(self, lmtp: bool = False) -> None:
        self.lmtp = lmtp

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if verp.mail_id_from(address) is None:
            return "550 5.1.1 Not a bounce address of this site"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(None, _process, content, tuple(envelope.rcpt_tos))
        except Exception:
            logger.exception("A bounce could not be recorded; the mail server will offer it again")
            status = "451 4.3.0 The bounce could not be recorded; try again later"
        else:
            status = f"250 2.0.0 OK ({outcome.kind})"
        if self.lmtp:  # LMTP answers DATA once per recipient
            return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))
        return status


class BounceController(Controller):
    def __init__(self, host: str, port: int, *, lmtp: bool = False) -> None:
        self.lmtp = lmtp
        super().__init__(
            BounceHandler(lmtp=lmtp), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES, decode_data=False
        )

    def factory(self) -> SMTP:
        if self.lmtp:
            return LMTP(self.handler, **self.SMTP_kwargs)
        return super().factory()


def start(host: str, port: int, *, lmtp: bool = False) -> BounceController:
    """Start listening in a background thread; ``stop()`` the returned controller to end it."""
    controller = BounceController(host, port, lmtp=lmtp)
    controller.start()
    return controller
