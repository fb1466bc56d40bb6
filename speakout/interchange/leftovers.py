"""What an import leaves on disk, deleted by the worker after ``SPEAKOUT_IMPORT_LEFTOVER_DAYS``.

A run deletes its uploads when it ends, but one the worker never started, or whose worker
stopped mid-way, keeps them (every commenter's address, drafts, post passwords); media fetched
for an import stay in ``import-media`` so an interrupted run resumes; a crashed unpacking leaves
its scratch folder. The sweep deletes each once it has been left alone for the delay: a queued,
running or recent run, and fetched files an import used in that time, keep all they need.
"""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from . import app_settings
from .media import cache_folder, scratch_folder
from .models import ImportRun
from .storage import FOLDER, delete_upload

WAITING = (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING)


def sweep(now=None) -> int:
    """Delete what imports left longer ago than the delay (0 days: never); returns how many
    files and folders went."""
    days = app_settings.LEFTOVER_DAYS
    if days <= 0:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    oldest = time.time() - days * 24 * 3600
    return (
        _stale_runs(now, cutoff, days)
        + _unnamed_uploads(oldest)
        + _fetched(oldest)
        + _delete(_old_entries(scratch_folder(), oldest))
        + _progress(oldest)
    )


def _stale_runs(now, cutoff, days: int) -> int:
    """Runs never started, or "running" long after their worker took them: failed, files deleted."""
    running = ImportRun.Status.RUNNING
    stale = ImportRun.objects.filter(
        Q(status=ImportRun.Status.QUEUED, created_at__lt=cutoff)
        | Q(status=running, started_at__lt=cutoff)
        # Taken by a version that did not record when: the upload's age stands in.
        | Q(status=running, started_at__isnull=True, created_at__lt=cutoff)
    )
    error = ngettext(
        "The worker did not finish this import within %(days)s day; its files were deleted. Upload them again.",
        "The worker did not finish this import within %(days)s days; its files were deleted. Upload them again.",
        days,
    ) % {"days": days}
    deleted = 0
    for run in stale:
        # Only if it is still as read: a worker taking the run meanwhile keeps it.
        claimed = ImportRun.objects.filter(pk=run.pk, status=run.status).update(
            status=ImportRun.Status.FAILED, error=error, finished_at=now, file="", media_file=""
        )
        if claimed:
            for field in (run.file, run.media_file):
                if field:
                    delete_upload(field)
                    deleted += 1
    return deleted


def _old_entries(folder: Path, oldest: float) -> list[Path]:
    if not folder.is_dir():
        return []
    return [entry for entry in folder.iterdir() if entry.lstat().st_mtime < oldest]


def _unnamed_uploads(oldest: float) -> int:
    """Uploads no waiting run names (its row deleted, or a crash between the two writes)."""
    waiting = set()
    for names in ImportRun.objects.filter(status__in=WAITING).values_list("file", "media_file"):
        waiting.update(Path(name).name for name in names if name)
    old = _old_entries(Path(settings.SPEAKOUT_PRIVATE_DIR) / FOLDER, oldest)
    return _delete([entry for entry in old if entry.name not in waiting])


def _fetched(oldest: float) -> int:
    """Fetched files (with their ``.json`` and ``.partial`` beside them) no import used lately."""
    folder = cache_folder()
    if not folder.is_dir():
        return 0
    newest: dict[str, float] = {}
    for entry in folder.iterdir():
        stem = entry.name.split(".", 1)[0]
        newest[stem] = max(newest.get(stem, 0.0), entry.lstat().st_mtime)
    return _delete([entry for entry in folder.iterdir() if newest[entry.name.split(".", 1)[0]] < oldest])


def _progress(oldest: float) -> int:
    """The progress files of runs no longer waiting (the run's page reads them while it waits)."""
    folder = Path(settings.DATA_DIR) / "interchange"
    waiting = {
        f"progress-{pk}.json" for pk in ImportRun.objects.filter(status__in=WAITING).values_list("pk", flat=True)
    }
    old = [entry for entry in _old_entries(folder, oldest) if entry.name.startswith(("progress-", ".progress-"))]
    return _delete([entry for entry in old if entry.name not in waiting])


def _delete(entries: list[Path]) -> int:
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return len(entries)
