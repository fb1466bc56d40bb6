"""The worker reads bounces and complaints from a real IMAP mailbox (Dovecot): real DSNs and ARF
reports suppress their addresses and are deleted; what is not a bounce stays, marked seen; a
second poll changes nothing; a wrong password loses nothing."""

from __future__ import annotations

import imaplib
import re

import pytest
from django.core import mail as django_mail
from django.db import transaction

from speakout.outbox import jobs
from speakout.outbox.models import Suppression
from speakout.outbox.services import queue_mail, send_due_mail
from tests.outbox.returned import arf_report, postfix_dsn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bounce_mailbox(settings, dovecot):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Speakout <speakout@example.org>"
    settings.SPEAKOUT_BOUNCE_ADDRESS = "bounces@example.org"
    settings.SPEAKOUT_BOUNCE_IMAP_URL = dovecot.url
    return dovecot


def sent(to: str) -> tuple[str, bytes]:
    with transaction.atomic():
        queue_mail(to, "A new reply", "Plain words", "<p>HTML words</p>")
    send_due_mail()
    message = django_mail.outbox[-1]
    return message.from_email, message.message().as_bytes(linesep="\r\n")


def mailbox(dovecot) -> list[tuple[bytes, bytes]]:
    """(flags, Subject header) of every message left in the folder."""
    client = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10)
    try:
        client.login(dovecot.user, dovecot.password)
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        left = []
        for item in data:
            if isinstance(item, tuple):
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                left.append((flags.group(1) if flags else b"", item[1].strip()))
        return left
    except imaplib.IMAP4.error:
        return []  # an empty folder: "1:*" matches nothing
    finally:
        client.logout()


def test_the_worker_reads_bounces_and_complaints_from_dovecot(bounce_mailbox):
    hard_path, hard_original = sent("gone@example.net")
    complaint_path, complaint_original = sent("annoyed@example.net")
    delayed_path, delayed_original = sent("slow@example.net")
    forger_path, forger_original = sent("forger@example.net")
    bounce_mailbox.deliver(postfix_dsn(hard_path, hard_original, recipient="gone@example.net"))
    bounce_mailbox.deliver(arf_report(complaint_path, complaint_original, recipient="annoyed@example.net"))
    bounce_mailbox.deliver(
        postfix_dsn(
            delayed_path,
            delayed_original,
            recipient="slow@example.net",
            action="delayed",
            status="4.4.1",
            diagnostic="X-Postfix; connect to mx.example.net[192.0.2.25]:25: Connection timed out",
        )
    )
    forged = forger_path.replace(forger_path.split("-", 1)[1][:6], "000000")
    bounce_mailbox.deliver(postfix_dsn(forged, forger_original, recipient="forger@example.net"))
    bounce_mailbox.deliver(
        b"From: Someone <someone@example.net>\r\nTo: bounces@example.org\r\nSubject: Who are you?\r\n\r\nHello.\r\n",
        sender="someone@example.net",
    )
    assert len(mailbox(bounce_mailbox)) == 5

    jobs.poll_bounce_mailbox()

    suppressed = dict(Suppression.objects.values_list("address", "reason"))
    assert suppressed == {
        "gone@example.net": Suppression.Reason.HARD_BOUNCE,
        "annoyed@example.net": Suppression.Reason.COMPLAINT,
    }
    left = mailbox(bounce_mailbox)
    subjects = sorted(subject for _, subject in left)
    assert subjects == [
        b"Subject: Delayed Mail (still being retried)",
        b"Subject: Undelivered Mail Returned to Sender",  # the forged one: no valid return path
        b"Subject: Who are you?",
    ]
    assert all(b"\\Seen" in flags for flags, _ in left), "read once, left for a person"

    # Read again: nothing new, nothing counted twice, nothing deleted that a person should see.
    jobs.poll_bounce_mailbox()
    assert len(mailbox(bounce_mailbox)) == 3
    assert Suppression.objects.count() == 2


def test_a_wrong_password_loses_nothing(bounce_mailbox, settings):
    path, original = sent("gone@example.net")
    bounce_mailbox.deliver(postfix_dsn(path, original, recipient="gone@example.net"))
    settings.SPEAKOUT_BOUNCE_IMAP_URL = bounce_mailbox.url.replace(bounce_mailbox.password, "wrong")
    with pytest.raises(imaplib.IMAP4.error):
        jobs.poll_bounce_mailbox()
    assert not Suppression.objects.exists()
    [(flags, _)] = mailbox(bounce_mailbox)
    assert b"\\Seen" not in flags
    settings.SPEAKOUT_BOUNCE_IMAP_URL = bounce_mailbox.url
    jobs.poll_bounce_mailbox()
    assert Suppression.objects.filter(address="gone@example.net").exists()
    assert mailbox(bounce_mailbox) == []
