"""Scheduled jobs of the privacy app, run by the worker's clock (``schedule``)."""

from __future__ import annotations


def purge_expired() -> None:
    """Delete what the retention settings say has expired (see purge.py)."""
    from . import purge

    purge.purge_expired()


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    return [("privacy_purge", 3600, f"{__name__}.purge_expired")]
