"""``speakout export-subscribers``: the new-post subscribers as CSV, in the shape import reads."""

from django.core.management.base import BaseCommand

from speakout.net.files import open_private
from speakout.subscriptions.subscriber_csv import export_subscribers


class Command(BaseCommand):
    help = "Write the new-post subscribers as CSV (Email, Since, Email subscription) to a file or standard output."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, output, **options):
        if output:
            with open_private(output, "w", newline="", encoding="utf-8") as stream:
                count = export_subscribers(stream)
            self.stderr.write(f"{count} subscribers written to {output}.")
        else:
            export_subscribers(self.stdout)
