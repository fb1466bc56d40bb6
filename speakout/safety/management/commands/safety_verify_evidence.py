"""Check evidence bundles, or every stored evidence hold, against this site's records.

    speakout manage safety_verify_evidence                  # the stored holds and their chain
    speakout manage safety_verify_evidence bundle.zip ...   # bundles a lawyer was given

Exits with status 1 if anything does not match.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from speakout.safety.evidence import verify_bundle, verify_chain


class Command(BaseCommand):
    help = "Check evidence bundles (zip files), or without arguments every stored hold and the chain of seals."

    def add_arguments(self, parser):
        parser.add_argument("bundles", nargs="*", help="Evidence bundles (.zip) to check.")

    def handle(self, *args, bundles, **options):
        failed = False
        if not bundles:
            result = verify_chain()
            for problem in result.problems:
                self.stderr.write(problem)
            failed = not result.ok
            if result.ok:
                self.stdout.write(f"OK: {result.checked} stored holds, chain intact.")
        for name in bundles:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as error:
                raise CommandError(f"{name}: {error.strerror}") from error
            result = verify_bundle(data)
            if result.ok:
                self.stdout.write(f"OK: {name} (hold #{result.hold.pk}, SHA-256 {result.hold.content_sha256})")
            else:
                failed = True
                for problem in result.problems:
                    self.stderr.write(f"{name}: {problem}")
        if failed:
            raise CommandError("Verification failed.", returncode=1)
