"""Scheduled jobs of the outbox, run by the worker's clock (see speakout.worker)."""

from __future__ import annotations


def send_due_mail() -> None:
    """Send retries, rate-limited mails and mails whose worker died mid-send."""
    from . import services

    services.send_due_mail()
