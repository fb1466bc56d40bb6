"""Scheduled jobs of the safety app, run by the worker's clock (``schedule``)."""

from __future__ import annotations

from django.conf import settings


def retrain() -> None:
    from .spam import retrain as rebuild

    rebuild()


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    # The spam filter is rebuilt from moderators' decisions (it also learns from each as it is made).
    return [("safety_retrain_spam_model", settings.SPEAKOUT_SAFETY_RETRAIN_SECONDS, f"{__name__}.retrain")]
