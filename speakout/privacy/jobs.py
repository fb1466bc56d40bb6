"""Scheduled jobs of the privacy app, run by the worker's clock (see speakout.worker)."""

from __future__ import annotations


def purge_expired() -> None:
    """Delete what the retention settings say has expired (see purge.py)."""
    from . import purge

    purge.purge_expired()
