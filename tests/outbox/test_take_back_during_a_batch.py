"""A mail taken back by an erasure while the worker sends the batch it was read with does not go
out: only the mail being sent at that moment is past taking back, whatever the send limit."""

from __future__ import annotations

import pytest
from django.core.mail.backends.locmem import EmailBackend

from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail, send_due_mail
from speakout.privacy.services import Owner, forget

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rate_per_minute", [0, 60])
def test_a_mail_erased_while_its_batch_is_sent_stays_unsent(mailoutbox, settings, monkeypatch, rate_per_minute):
    settings.SPEAKOUT_EMAIL_RATE_PER_MINUTE = rate_per_minute
    queue_mail("first@example.org", "Subject", "Text")
    queue_mail("erased@example.org", "Subject", "Text naming the erased person")
    send = EmailBackend.send_messages

    def send_then_erase(backend, messages):
        sent = send(backend, messages)
        if messages and messages[0].to == ["first@example.org"]:
            forget(Owner.for_email("erased@example.org"))  # "forget me", while the batch is sent
        return sent

    monkeypatch.setattr(EmailBackend, "send_messages", send_then_erase)
    send_due_mail()
    assert [message.to for message in mailoutbox] == [["first@example.org"]]
    assert not OutgoingMail.objects.filter(to="erased@example.org").exists()
