"""Scheduled jobs of the federation, run by the worker's clock (see speakout.worker)."""

from __future__ import annotations

from django.conf import settings


def deliver_due() -> None:
    """Send retries, and deliveries whose worker died mid-send."""
    from . import delivery

    delivery.deliver_due()


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    return [
        ("federation_deliveries", settings.SPEAKOUT_OUTBOX_SWEEP_SECONDS, f"{__name__}.deliver_due"),
        # The log and the deleted notes' tombstones keep a bounded past (LOG_RETENTION_DAYS,
        # TOMBSTONE_RETENTION_DAYS).
        ("federation_log_prune", 3600, f"{__name__}.prune_log"),
    ]


def prune_log() -> int:
    """Drop log entries and deleted notes' tombstones older than their retention; returns how
    many went."""
    from datetime import timedelta

    from django.utils import timezone

    from .app_settings import app_settings
    from .models import ActivityLog, NoteTombstone

    now = timezone.now()
    logged, _by_model = ActivityLog.objects.filter(
        created_at__lt=now - timedelta(days=app_settings.LOG_RETENTION_DAYS)
    ).delete()
    tombstones, _by_model = NoteTombstone.objects.filter(
        deleted_at__lt=now - timedelta(days=app_settings.TOMBSTONE_RETENTION_DAYS)
    ).delete()
    return logged + tombstones
