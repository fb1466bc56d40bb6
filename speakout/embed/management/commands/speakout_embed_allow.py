from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from speakout.embed.models import AllowedOrigin


class Command(BaseCommand):
    help = "Allow an origin (https://blog.example.org) to embed the discussion, or --remove it."

    def add_arguments(self, parser):
        parser.add_argument("origin")
        parser.add_argument("--key-prefix", default="", help="Put before page paths to make thread keys.")
        parser.add_argument("--note", default="")
        parser.add_argument("--remove", action="store_true")

    def handle(self, origin, key_prefix, note, remove, **options):
        candidate = AllowedOrigin(origin=origin, key_prefix=key_prefix, note=note)
        try:
            candidate.clean()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        if remove:
            deleted, _ = AllowedOrigin.objects.filter(origin=candidate.origin).delete()
            self.stdout.write(f"Removed {candidate.origin}" if deleted else f"{candidate.origin} was not allowed")
            return
        AllowedOrigin.objects.update_or_create(
            origin=candidate.origin, defaults={"key_prefix": key_prefix, "note": note, "is_active": True}
        )
        self.stdout.write(f"Allowed {candidate.origin}")
