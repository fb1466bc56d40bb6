"""Scheduled jobs of the interchange app, run by the worker's clock (``schedule``)."""

from __future__ import annotations

from django.conf import settings


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    # Backups to DATA_DIR/backups/ when the operator asks for them (0 hours: none).
    hours = settings.SPEAKOUT_BACKUP_EVERY_HOURS
    return [("backup", hours * 3600, "speakout.interchange.backup.scheduled_backup")] if hours > 0 else []
