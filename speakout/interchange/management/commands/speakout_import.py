"""``speakout import FILE``: bring a WordPress (WXR), Disqus or Isso archive in."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from speakout.interchange.errors import ImportFailed
from speakout.interchange.importers import formats, run_import
from speakout.interchange.progressbar import ProgressBar
from speakout.interchange.report import summary_lines


class Command(BaseCommand):
    help = "Import a WordPress (WXR 1.0–1.2), Disqus XML or Isso (SQLite or JSON) export."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=formats(), help="skip detection and read the file as this format")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
        parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary, errors only")
        parser.add_argument(
            "--media",
            help="a copy of wp-content/uploads, or WordPress.com's media export (.tar): import the files it holds",
        )
        parser.add_argument(
            "--fetch-media",
            action="store_true",
            help="first download every attachment and image the posts use from the old site (resumable)",
        )

    def handle(self, *args, **options):
        quiet = options["quiet"] or options["verbosity"] == 0
        bar = None if quiet else ProgressBar(self.stderr._out)
        try:
            result = run_import(
                options["file"],
                format=options["format"],
                dry_run=options["dry_run"],
                media_dir=options["media"],
                fetch=options["fetch_media"],
                on_progress=bar,
                on_fetch=None if quiet else self._fetching,
            )
        except ImportFailed as error:
            raise CommandError(f"{error} — nothing was imported.") from error
        finally:
            if bar is not None:
                bar.close()
        if not quiet:
            for line in summary_lines(result):
                self.stdout.write(line)

    def _fetching(self, number: int, total: int, url: str) -> None:
        end = "\n" if number == total else ""
        label = _("Fetching media")
        self.stderr._out.write(f"\r{label} {number}/{total} {url[-60:]}".ljust(100) + end)
        self.stderr._out.flush()
