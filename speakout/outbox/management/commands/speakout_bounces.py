"""``speakout bounces``: listen for bounces the mail server hands over by SMTP or LMTP."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from speakout.outbox import listener


class Command(BaseCommand):
    help = "Receive bounces and complaints from the mail server over SMTP or LMTP (see docs/email.md)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=2525, help="port to listen on (default 2525)")
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")

    def handle(self, *args, host, port, lmtp, **options):
        try:
            controller = listener.start(host, port, lmtp=lmtp)
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
        protocol = "LMTP" if lmtp else "SMTP"
        self.stdout.write(f"Receiving bounces over {protocol} on {host}:{port}. Press Ctrl-C to stop.")
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            controller.stop()
        self.stdout.write("Stopped.")
