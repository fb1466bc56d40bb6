"""``speakout import FILE``: bring a WordPress (WXR), Disqus or Isso archive in."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

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
        parser.add_argument("--media", help="a copy of wp-content/uploads: import the files it holds")

    def handle(self, *args, **options):
        quiet = options["quiet"] or options["verbosity"] == 0
        bar = None if quiet else ProgressBar(self.stderr._out)
        try:
            result = run_import(
                options["file"],
                format=options["format"],
                dry_run=options["dry_run"],
                media_dir=options["media"],
                on_progress=bar,
            )
        except ImportFailed as error:
            raise CommandError(f"{error} — nothing was imported.") from error
        finally:
            if bar is not None:
                bar.close()
        if not quiet:
            for line in summary_lines(result):
                self.stdout.write(line)
        return None
