"""``speakout import-subscribers FILE``: WordPress.com's subscriber CSV as new-post subscriptions."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from speakout.subscriptions.subscriber_csv import SubscriberFileError, import_subscribers


class Command(BaseCommand):
    help = (
        "Import WordPress.com's subscriber list (CSV): confirmed subscribers become confirmed "
        "new-post subscriptions without any mail; unconfirmed ones are left out unless "
        "--send-confirmations. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--send-confirmations",
            action="store_true",
            help="mail each unconfirmed address one confirmation link instead of leaving it out",
        )
        parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")

    def handle(self, *args, file, send_confirmations, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"There is no file at {path}.")
        try:
            result = import_subscribers(
                path.read_text(encoding="utf-8-sig"), send_confirmations=send_confirmations, dry_run=dry_run
            )
        except (SubscriberFileError, UnicodeDecodeError) as error:
            raise CommandError(f"{error} Nothing was imported.") from error
        for line in result.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
