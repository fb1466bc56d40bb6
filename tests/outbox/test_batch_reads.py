"""What every mail of a batch reads the same (the organisation's name, the sender, the default
language) is read once per batch, and a change shows from the next batch."""

from __future__ import annotations

import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Site

from speakout.outbox import sender
from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail, send_due_mail

pytestmark = pytest.mark.django_db


def rename_site(name: str) -> None:
    Site.objects.filter(is_default_site=True).update(site_name=name)


def test_the_organisation_name_is_read_once_per_batch_and_afresh_outside_one():
    rename_site("First name")
    with sender.one_batch():
        assert sender.organisation_name() == "First name"
        rename_site("Second name")
        with CaptureQueriesContext(connection) as reads:
            assert sender.organisation_name() == "First name"
            sender.sender_address()
            sender.sender_address()
        assert not any("wagtailcore_site" in query["sql"] for query in reads.captured_queries)
    assert sender.organisation_name() == "Second name"  # outside a batch: read every time
    with sender.one_batch():
        assert sender.organisation_name() == "Second name"
        assert "Second name" in sender.sender_address()


def test_a_batch_of_mails_reads_the_sender_once(mailoutbox):
    rename_site("Batch sender")
    for number in range(3):
        queue_mail(f"reader-{number}@example.org", "Subject", "Text")
    with CaptureQueriesContext(connection) as reads:
        send_due_mail()
    assert len(mailoutbox) == 3
    assert all("Batch sender" in message.extra_headers["From"] for message in mailoutbox)
    assert sum("wagtailcore_site" in query["sql"] for query in reads.captured_queries) <= 1
    assert OutgoingMail.objects.filter(status="sent").count() == 3
    rename_site("Renamed")
    queue_mail("reader-9@example.org", "Subject", "Text")
    send_due_mail()
    assert "Renamed" in mailoutbox[-1].extra_headers["From"]


def test_sending_a_batch_costs_two_statements_per_mail(mailoutbox):
    """The claim and the mark "sent" (what keeps a mail from going out twice), on PostgreSQL in
    one statement: a mail's mark goes with the next mail's claim. The rows and the suppressed
    addresses are read once for the batch, not per mail."""

    def statements_to_send(count: int) -> int:
        for number in range(count):
            queue_mail(f"reader-{count}-{number}@example.org", "Subject", "Text")
        with CaptureQueriesContext(connection) as statements:
            send_due_mail()
        return len(statements.captured_queries)

    two, five = statements_to_send(2), statements_to_send(5)
    assert len(mailoutbox) == 7
    assert five - two == (1 if connection.vendor == "postgresql" else 2) * 3
    assert OutgoingMail.objects.filter(status="sent", sent_at__isnull=False, claimed_at=None).count() == 7


class FailingThirdBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        if email_messages[0].to == ["third@example.org"]:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return len(email_messages)


def test_a_sent_mail_is_marked_sent_whatever_ends_the_batch(settings):
    """The sent mark that waits for the next mail's claim is written when the batch ends: after
    its last mail, and when a failure stops it."""
    settings.EMAIL_BACKEND = f"{__name__}.FailingThirdBackend"
    for address in ("first", "second", "third"):
        queue_mail(f"{address}@example.org", "Subject", "Text")
    send_due_mail()
    statuses = dict(OutgoingMail.objects.values_list("to", "status"))
    assert statuses == {"first@example.org": "sent", "second@example.org": "sent", "third@example.org": "pending"}
    assert OutgoingMail.objects.get(to="second@example.org").attempts == 1
    OutgoingMail.objects.filter(to="third@example.org").delete()
    queue_mail("last@example.org", "Subject", "Text")
    send_due_mail()
    last = OutgoingMail.objects.get(to="last@example.org")
    assert (last.status, last.claimed_at, last.attempts) == ("sent", None, 1) and last.sent_at is not None


def test_an_address_suppressed_before_the_batch_is_not_sent(mailoutbox):
    from speakout.outbox.models import Suppression

    queue_mail("Kept.Away@example.org", "Subject", "Text")
    queue_mail("welcome@example.org", "Subject", "Text")
    Suppression.objects.create(address="kept.away@example.org", reason=Suppression.Reason.COMPLAINT)
    send_due_mail()
    assert [message.to for message in mailoutbox] == [["welcome@example.org"]]
    assert OutgoingMail.objects.get(to="Kept.Away@example.org").status == "failed"
