"""Scheduled jobs of the outbox, run by the worker's clock (``schedule``)."""

from __future__ import annotations

from django.conf import settings

from . import imap, services


def send_due_mail() -> None:
    """Send retries, rate-limited mails and mails whose worker died mid-send."""
    services.send_due_mail()


def poll_bounce_mailbox() -> None:
    """Read bounces and complaints from SPEAKOUT_BOUNCE_IMAP_URL's folder."""
    imap.poll()


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    # Retries, rate-limited mails and mails whose worker died mid-send.
    jobs = [("send_due_mail", settings.SPEAKOUT_OUTBOX_SWEEP_SECONDS, f"{__name__}.send_due_mail")]
    if settings.SPEAKOUT_BOUNCE_IMAP_URL:
        jobs.append(("poll_bounce_mailbox", settings.SPEAKOUT_BOUNCE_IMAP_SECONDS, f"{__name__}.poll_bounce_mailbox"))
    return jobs
