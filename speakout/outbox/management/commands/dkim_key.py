"""``speakout manage dkim_key``: make a DKIM key in the data folder and print its DNS record."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from speakout.outbox import signing
from speakout.outbox.app_settings import app_settings


class Command(BaseCommand):
    help = "Create the DKIM signing key (unless one exists) and print the DNS record to publish."

    def add_arguments(self, parser):
        parser.add_argument("--bits", type=int, default=2048, help="RSA key size (default 2048)")

    def handle(self, *args, bits, **options):
        key = signing.private_key()
        if key is None:
            path = app_settings.DKIM_KEY_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            key = signing.generate_key(bits)
            # Readable by this user only: it signs mail in the organisation's name.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(key)
            self.stdout.write(f"Wrote a new DKIM key to {path}.")
        try:
            record = signing.dns_record(key)
        except ValueError as error:
            raise CommandError(f"The configured DKIM key cannot be read: {error}") from error
        name = f"{app_settings.DKIM_SELECTOR}._domainkey.{signing.signing_domain()}"
        self.stdout.write(f"Publish this TXT record at {name}:\n\n{record}\n")
        self.stdout.write("Mail is signed with this key from now on; check the record with check_mail_setup.")
