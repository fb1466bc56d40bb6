"""Scheduled jobs of the safety app (listed in SPEAKOUT_SCHEDULED_JOBS)."""

from __future__ import annotations


def retrain() -> None:
    from .spam import retrain as rebuild

    rebuild()
