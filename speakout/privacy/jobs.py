"""Scheduled jobs of the privacy app, run by the worker's clock (``schedule``)."""

from __future__ import annotations


def purge_expired() -> None:
    """Delete what the retention settings say has expired (see purge.py)."""
    from . import purge

    purge.purge_expired()


def send_unsent_manage_links() -> None:
    """Mail the links of requests whose task was never queued (see services)."""
    from . import services

    services.send_unsent_manage_links()


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    from django.conf import settings

    return [
        ("privacy_purge", 3600, f"{__name__}.purge_expired"),
        # As often as the outbox's sweep: the person waits for this mail.
        ("privacy_manage_links", settings.SPEAKOUT_OUTBOX_SWEEP_SECONDS, f"{__name__}.send_unsent_manage_links"),
    ]
