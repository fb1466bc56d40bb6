"""Importer registry, format detection and the one entry point, ``run_import``.

One class per format with ``detect(peek)`` and ``run()`` (after isso/migrate.py). Register a
new format with ``register(MyImporter)``; detection tries the registered classes in order.

All or nothing: an import runs in one database transaction. A malformed file, a refused
construct or any other error rolls everything back, so a failed import leaves the site exactly
as it was, and running it again after fixing the file starts cleanly. ``dry_run`` runs the
same import and rolls it back at the end, so its report is exactly what a real run would do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from .errors import ImportFailed
from .media import fetch_media, media_folder
from .result import ImportResult
from .writer import SiteWriter


@dataclass
class Progress:
    items: int = 0
    replies: int = 0
    position: int = 0
    total: int = 0
    started: float = 0.0

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-6)

    @property
    def fraction(self) -> float:
        return min(self.position / self.total, 1.0) if self.total else 0.0

    @property
    def seconds_left(self) -> float | None:
        if not self.fraction:
            return None
        return self.elapsed * (1 - self.fraction) / self.fraction

    def as_dict(self) -> dict:
        return {
            "items": self.items,
            "replies": self.replies,
            "fraction": round(self.fraction, 4),
            "items_per_second": round(self.items / self.elapsed, 1),
            "replies_per_second": round(self.replies / self.elapsed, 1),
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left),
        }


class Importer:
    """Base class of a format. ``detect`` sees the file's first bytes; ``run`` reads the file
    and hands what it finds to ``self.writer``. Override both in a subclass and register it."""

    format = ""
    label = ""

    def __init__(self, path: Path, writer: SiteWriter, result: ImportResult, progress: Progress, report):
        self.path = path
        self.writer = writer
        self.result = result
        self.progress = progress
        self._report = report

    @classmethod
    def detect(cls, peek: bytes) -> bool:
        raise NotImplementedError

    @classmethod
    def media_urls(cls, path: Path) -> list[str]:
        """The addresses of every file the archive's posts use (for ``--fetch-media``)."""
        raise ImportFailed(_("Fetching media works for WordPress exports only."))

    def run(self) -> None:
        raise NotImplementedError

    def moved(self, position: int) -> None:
        self.progress.position = position
        self._report(self.progress)


_registry: list[type[Importer]] = []


def register(importer: type[Importer]) -> type[Importer]:
    if importer not in _registry:
        _registry.append(importer)
    return importer


def importers() -> list[type[Importer]]:
    if not _registry:
        from .disqus import DisqusImporter
        from .isso import IssoJSONImporter, IssoSQLiteImporter
        from .wxr import WXRImporter

        for importer in (WXRImporter, DisqusImporter, IssoSQLiteImporter, IssoJSONImporter):
            register(importer)
    return list(_registry)


def formats() -> list[str]:
    return [importer.format for importer in importers()]


def detect(path: Path) -> type[Importer]:
    with open(path, "rb") as handle:
        peek = handle.read(8192)
    for importer in importers():
        if importer.detect(peek):
            return importer
    raise ImportFailed(
        _("Could not tell what kind of file this is. Name the format with --format (one of: %(formats)s).")
        % {"formats": ", ".join(formats())}
    )


class _DryRunRollback(Exception):
    pass


def run_import(
    path: str | Path,
    *,
    format: str | None = None,
    dry_run: bool = False,
    media_dir: str | Path | None = None,
    fetch: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    on_fetch: Callable[[int, int, str], None] | None = None,
) -> ImportResult:
    """Import one file; raises ``ImportFailed`` (and changes nothing) when it cannot.

    ``media_dir`` is a copy of the uploads folder or WordPress.com's media export (``.tar``);
    ``fetch`` first downloads every file the posts use from the old site (see media.py), which
    ``on_fetch(number, total, url)`` follows."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(_("There is no file at %(path)s.") % {"path": path})
    if format:
        chosen = {importer.format: importer for importer in importers()}.get(format)
        if chosen is None:
            raise ImportFailed(
                _("Unknown format “%(format)s”; use one of: %(formats)s.")
                % {"format": format, "formats": ", ".join(formats())}
            )
    else:
        chosen = detect(path)
    with media_folder(media_dir) as media:
        fetched = fetch_media(chosen.media_urls(path), on_fetch, dry_run=dry_run) if fetch else None
        result = _run(chosen, path, media, fetch, dry_run, on_progress)
    if fetched is not None:
        result.count("file", "fetched", fetched.fetched)
        result.count("file", "fetched before", fetched.already)
        for url, why in fetched.failed:
            result.skip(_("file %(url)s") % {"url": url}, _("not fetched: %(why)s") % {"why": why})
    return result


def _run(chosen, path: Path, media: Path | None, fetch: bool, dry_run: bool, on_progress) -> ImportResult:
    result = ImportResult(format=chosen.format, dry_run=dry_run)
    progress = Progress(total=path.stat().st_size, started=time.monotonic())
    report = on_progress or (lambda progress: None)

    def tick(items: int, replies: int) -> None:
        progress.items += items
        progress.replies += replies
        report(progress)

    try:
        with transaction.atomic():
            writer = SiteWriter(result, media_dir=media, use_fetched=fetch, dry_run=dry_run, tick=tick)
            with writer.session():
                chosen(path, writer, result, progress, report).run()
                writer.finish()
            progress.position = progress.total
            report(progress)
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    except (UnicodeDecodeError, ValueError) as error:
        raise ImportFailed(_("The file could not be read: %(error)s") % {"error": error}) from error
    return result
