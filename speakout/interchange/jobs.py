"""Scheduled jobs of the interchange app, run by the worker's clock (``schedule``)."""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def sweep_leftovers() -> int:
    """Delete what imports left on disk past the delay (``leftovers.sweep``); returns how many went."""
    from .leftovers import sweep

    deleted = sweep()
    if deleted:  # what went, for an operator wondering where a file is
        logger.info("Deleted %d files and folders that imports left behind", deleted)
    return deleted


def forget_export_checks() -> int:
    """Delete the Export screen's checks past their day (their reports name addresses)."""
    from .export_views import forget_expired_checks

    return forget_expired_checks()


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    jobs = [
        ("interchange_leftovers", 3600, f"{__name__}.sweep_leftovers"),
        ("interchange_export_checks", 3600, f"{__name__}.forget_export_checks"),
    ]
    # Backups to DATA_DIR/backups/ when the operator asks for them (0 hours: none).
    hours = settings.SPEAKOUT_BACKUP_EVERY_HOURS
    if hours > 0:
        jobs.append(("backup", hours * 3600, "speakout.interchange.backup.scheduled_backup"))
    return jobs
