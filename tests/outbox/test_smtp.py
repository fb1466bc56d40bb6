"""Against a real SMTP server (aiosmtpd on a free loopback port): one message with both parts
and the right headers; an outage loses nothing and sends nothing twice."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.db import transaction
from django.utils import timezone

from speakout.outbox import jobs
from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail
from tests.outbox.helpers import CollectingHandler

pytestmark = pytest.mark.django_db(transaction=True)

Status = OutgoingMail.Status


def received(server):
    return [message_from_bytes(envelope.content, policy=policy.default) for envelope in server.envelopes]


def test_smtp_server_receives_one_multipart_message(smtp_server):
    """A committed mail reaches the server once, multipart, with the stored Message-ID."""
    with transaction.atomic():
        mail = queue_mail(
            "ada@example.org",
            "Nueva respuesta: «Vivienda»",
            "Plain words",
            "<p>HTML words</p>",
            headers={"List-Unsubscribe": "<https://example.org/u/abc>", "Reply-To": "team@example.org"},
            language="es",
        )
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["ada@example.org"]
    assert envelope.mail_from == "speakout@example.org"
    [message] = received(smtp_server)
    mail.refresh_from_db()
    assert mail.status == Status.SENT
    assert message["Message-ID"] == mail.message_id
    assert message["Subject"] == "Nueva respuesta: «Vivienda»"
    assert message["To"] == "ada@example.org"
    assert message["From"] == "Speakout <speakout@example.org>"
    assert message["Reply-To"] == "team@example.org"
    assert message["List-Unsubscribe"] == "<https://example.org/u/abc>"
    assert message["Content-Language"] == "es"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Plain words"
    assert message.get_body(("html",)).get_content().strip() == "<p>HTML words</p>"


def test_outage_keeps_mail_pending_then_sends_it_once(smtp_server):
    """Server down: the attempt fails, the mail stays pending with the error and a later
    attempt time. Server back: the sweep sends it exactly once, with the same Message-ID."""
    smtp_server.stop()
    with transaction.atomic():
        mail = queue_mail("ada@example.org", "Hello", "Plain words", "<p>HTML words</p>")
    mail.refresh_from_db()
    assert mail.status == Status.PENDING
    assert mail.attempts == 1
    assert mail.last_error.startswith("ConnectionRefusedError")
    assert mail.next_attempt_at > timezone.now()

    # Not due yet: the sweep leaves it alone even with the server back.
    smtp_server.start()
    jobs.send_due_mail()
    assert smtp_server.envelopes == []

    OutgoingMail.objects.filter(pk=mail.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    jobs.send_due_mail()
    jobs.send_due_mail()
    assert len(smtp_server.envelopes) == 1
    [message] = received(smtp_server)
    assert message["Message-ID"] == mail.message_id
    mail.refresh_from_db()
    assert mail.status == Status.SENT
    assert mail.attempts == 2


class OneMessagePerConnection(CollectingHandler):
    """Like a server with a per-connection limit: refuses the second message on a connection."""

    async def handle_DATA(self, server, session, envelope):
        if session.peer in self.connections:
            return "421 Too many messages on this connection"
        return await super().handle_DATA(server, session, envelope)


def test_mails_queued_together_go_over_one_connection(smtp_server):
    """One send task takes every due mail, over one connection: not a connection (or a TLS
    handshake) per mail."""
    with transaction.atomic():
        for number in range(3):
            queue_mail(f"reader{number}@example.org", f"Mail {number}", "Plain words")
    assert len(smtp_server.envelopes) == 3
    assert len(set(smtp_server.handler.connections)) == 1
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {Status.SENT}


def test_a_refusal_on_a_used_connection_goes_on_with_a_new_one(smtp_server):
    """The server refuses the second message on each connection: that mail waits for its retry,
    and the batch goes on over a new connection instead of leaving the rest for the sweep."""
    smtp_server.stop()
    smtp_server.handler = OneMessagePerConnection()
    smtp_server.start()
    with transaction.atomic():
        mails = [queue_mail(f"reader{number}@example.org", f"Mail {number}", "Plain words") for number in range(4)]
    statuses = [mail.status for mail in OutgoingMail.objects.order_by("pk")]
    assert statuses == [Status.SENT, Status.PENDING, Status.SENT, Status.PENDING]
    assert len(set(smtp_server.handler.connections)) == 2
    waiting = OutgoingMail.objects.get(pk=mails[1].pk)
    assert waiting.attempts == 1 and waiting.next_attempt_at > timezone.now()
    assert "421" in waiting.last_error


class RefusingSomeRecipients(CollectingHandler):
    """Refuses recipients by their local part, as a relay does: ``gone@`` for good (550),
    ``busy@`` for now (451), and a message to ``spammy@`` for good at DATA (554)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"
        if address.startswith("busy@"):
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos == ["spammy@example.org"]:
            return "554 5.7.1 Message refused by policy"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def refusing_server(smtp_server):
    smtp_server.stop()
    smtp_server.handler = RefusingSomeRecipients()
    smtp_server.start()
    return smtp_server


def test_a_permanent_refusal_fails_the_mail_at_once_and_the_rest_still_go(refusing_server):
    """A relay's 5xx is final: the mail is failed after one attempt with the relay's words (the
    admin lists it as failed), a 5.1.1 suppresses the address as a hard bounce would, and the
    mails queued with it are still sent: the server is up."""
    from speakout.outbox.models import Suppression

    with transaction.atomic():
        gone = queue_mail("gone@example.org", "Mail 1", "Plain words")
        spammy = queue_mail("spammy@example.org", "Mail 2", "Plain words")
        fine = queue_mail("ada@example.org", "Mail 3", "Plain words")
    gone.refresh_from_db()
    assert gone.status == Status.FAILED
    assert gone.attempts == 1
    assert "550" in gone.last_error and "gone@example.org" not in gone.last_error
    spammy.refresh_from_db()
    assert spammy.status == Status.FAILED and "554" in spammy.last_error
    assert OutgoingMail.objects.get(pk=fine.pk).status == Status.SENT
    assert [envelope.rcpt_tos for envelope in refusing_server.envelopes] == [["ada@example.org"]]
    assert list(Suppression.objects.values_list("address", "reason")) == [("gone@example.org", "hard_bounce")]

    # Nothing retries a failed mail.
    OutgoingMail.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    jobs.send_due_mail()
    gone.refresh_from_db()
    assert gone.status == Status.FAILED and gone.attempts == 1


def test_a_temporary_refusal_keeps_retrying_with_backoff(refusing_server):
    """A 4xx (greylisting, a full queue) is retried later, each wait longer than the last."""
    with transaction.atomic():
        mail = queue_mail("busy@example.org", "Mail", "Plain words")
    mail.refresh_from_db()
    assert mail.status == Status.PENDING and mail.attempts == 1
    assert "451" in mail.last_error
    first_wait = mail.next_attempt_at - timezone.now()
    OutgoingMail.objects.filter(pk=mail.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    jobs.send_due_mail()
    mail.refresh_from_db()
    assert mail.status == Status.PENDING and mail.attempts == 2
    assert mail.next_attempt_at - timezone.now() > first_wait
    assert refusing_server.envelopes == []
