"""Scheduled jobs of the federation, run by the worker's clock (see speakout.worker)."""

from __future__ import annotations

from django.conf import settings


def deliver_due() -> None:
    """Send retries, and deliveries whose worker died mid-send."""
    from . import delivery

    delivery.deliver_due()


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    # Retries, and deliveries whose worker died mid-send.
    return [("federation_deliveries", settings.SPEAKOUT_OUTBOX_SWEEP_SECONDS, f"{__name__}.deliver_due")]
