"""``speakout backup [--output PATH]``: database copy, media files and a manifest in one archive."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from speakout.interchange.backup import backup
from speakout.interchange.errors import ImportFailed


class Command(BaseCommand):
    help = "Write a backup archive (database, media files, manifest with counts and checksums)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="archive file or folder (default: DATA_DIR/backups/)")

    def handle(self, *args, **options):
        try:
            path = backup(options["output"])
        except ImportFailed as error:
            raise CommandError(str(error)) from error
        self.stdout.write(str(path))
