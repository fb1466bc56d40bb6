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
