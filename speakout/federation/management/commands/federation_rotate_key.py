"""``speakout federation rotate-key``: a new key pair for the site's Fediverse actor."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from speakout.federation import keys


class Command(BaseCommand):
    help = (
        "Make a new key pair for the site's Fediverse actor, sign with it from now on, and send "
        "Update(actor) to every follower's server."
    )

    def handle(self, *args, **options):
        key, told = keys.rotate_and_announce()
        self.stdout.write(f"New key {key} in use; Update(actor) queued for {told} inbox(es) (the worker sends it).")
