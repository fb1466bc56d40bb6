"""``speakout export-subscribers``: the new-post subscribers as CSV, in the shape import reads."""

import os

from django.core.management.base import BaseCommand

from speakout.subscriptions.subscriber_csv import export_subscribers


class Command(BaseCommand):
    help = "Write the new-post subscribers as CSV (Email, Since, Email subscription) to a file or standard output."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, output, **options):
        if output:
            # Every subscriber's address: readable by the site's own user only, whatever the umask.
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as stream:
                count = export_subscribers(stream)
            self.stderr.write(f"{count} subscribers written to {output}.")
        else:
            export_subscribers(self.stdout)
