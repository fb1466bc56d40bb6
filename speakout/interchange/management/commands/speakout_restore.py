"""``speakout restore ARCHIVE``: bring a backup back into an empty instance and verify it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from speakout.interchange.backup import restore
from speakout.interchange.errors import ImportFailed


class Command(BaseCommand):
    help = "Restore a backup archive into an empty instance, checked against its manifest."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--force", action="store_true", help="replace an instance that already has content")

    def handle(self, *args, **options):
        try:
            manifest = restore(options["archive"], force=options["force"])
        except ImportFailed as error:
            raise CommandError(str(error)) from error
        rows = sum(table["count"] for table in manifest["tables"].values())
        restored = (
            f"Restored {rows} rows in {len(manifest['tables'])} tables and "
            f"{sum(1 for name in manifest['files'] if name.startswith('media/'))} media files"
        )
        if manifest["brought_up_to_date"]:
            self.stdout.write(
                f"{restored}; the files' checksums and every table's row count match. The backup came "
                "from an earlier version of Speakout: its database has been brought up to date."
            )
        else:
            self.stdout.write(f"{restored}; all checksums match.")
        for note in manifest["notes"]:
            self.stdout.write(note)
