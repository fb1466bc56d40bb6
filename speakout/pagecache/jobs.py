"""Scheduled jobs of the page cache, run by the worker's clock (``schedule``)."""

from __future__ import annotations

# Left alone for a day: long enough for every process of an earlier release to have been
# restarted after an upgrade (docs/production.md asks for a restart of all of them together).
UNTOUCHED_SECONDS = 24 * 3600


def tidy_versions() -> int:
    """Delete the version folder's leftovers (``FileVersions.tidy``); returns how many went."""
    from .versions import file_versions

    store = file_versions()
    return store.tidy(UNTOUCHED_SECONDS) if store is not None else 0


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    return [("pagecache_tidy", 3600, f"{__name__}.tidy_versions")]
