"""``speakout manage check_mail_setup``: are SPF, DKIM and DMARC set up for the sending domain?"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from speakout.outbox import mailsetup


class Command(BaseCommand):
    help = "Look up the SPF, DKIM and DMARC records of the domain mail is sent from and say what is missing."

    def add_arguments(self, parser):
        parser.add_argument("--domain", default="", help="the domain to check (default: SPEAKOUT_EMAIL_FROM's)")
        parser.add_argument("--nameserver", default="", help="ask this DNS server (HOST or HOST:PORT) only")
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for DNS (default 5)")

    def handle(self, *args, domain, nameserver, timeout, **options):
        resolver = mailsetup.make_resolver(nameserver, timeout)
        findings = mailsetup.check(resolver, domain)
        for finding in findings:
            self.stdout.write(f"{finding.level.name:<8} {finding.topic}: {finding.message}")
        to_fix = [f for f in findings if f.level in (mailsetup.Level.MISSING, mailsetup.Level.PROBLEM)]
        if to_fix:
            raise CommandError(f"{len(to_fix)} thing(s) to fix; docs/email.md says how.")
        self.stdout.write("Mail set-up looks right.")
