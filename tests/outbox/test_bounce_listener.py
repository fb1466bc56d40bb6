"""``speakout bounces``: the SMTP and LMTP listener (aiosmtpd) the mail server hands bounces to,
spoken to with smtplib as a mail server would: MAIL FROM:<>, RCPT TO the return path."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail as django_mail
from django.db import transaction

from speakout.outbox import bounces, listener
from speakout.outbox.models import Suppression
from speakout.outbox.services import queue_mail, send_due_mail
from tests.integration.server import free_port
from tests.outbox.returned import postfix_dsn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def bounce_address(settings):
    settings.SPEAKOUT_BOUNCE_ADDRESS = "bounces@example.org"


@pytest.fixture
def smtp_listener():
    controller = listener.start("127.0.0.1", free_port())
    yield controller
    controller.stop()


@pytest.fixture
def lmtp_listener():
    controller = listener.start("127.0.0.1", free_port(), lmtp=True)
    yield controller
    controller.stop()


def bounce_of(to: str) -> tuple[str, bytes]:
    with transaction.atomic():
        queue_mail(to, "A new reply", "Plain words")
    send_due_mail()
    message = django_mail.outbox[-1]
    return message.from_email, postfix_dsn(message.from_email, message.message().as_bytes(linesep="\r\n"), recipient=to)


def test_a_bounce_over_smtp_suppresses_the_address(smtp_listener):
    return_path, dsn = bounce_of("ada@example.net")
    with smtplib.SMTP(smtp_listener.hostname, smtp_listener.port, timeout=10) as client:
        client.sendmail("", [return_path], dsn)
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason) == ("ada@example.net", Suppression.Reason.HARD_BOUNCE)


def test_a_bounce_over_lmtp_suppresses_the_address(lmtp_listener):
    return_path, dsn = bounce_of("ada@example.net")
    with smtplib.LMTP(lmtp_listener.hostname, lmtp_listener.port, timeout=10) as client:
        refused = client.sendmail("", [return_path], dsn)
    assert refused == {}
    assert Suppression.objects.filter(address="ada@example.net").exists()


def test_an_address_that_is_not_a_signed_return_path_is_refused(smtp_listener):
    return_path, dsn = bounce_of("ada@example.net")
    forged = return_path.replace(return_path.split("-", 1)[1][:4], "0000")
    with smtplib.SMTP(smtp_listener.hostname, smtp_listener.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("", ["bounces@example.org", forged], dsn)
    assert {code for code, _ in refused.value.recipients.values()} == {550}
    assert not Suppression.objects.exists()


def test_a_bounce_that_cannot_be_stored_is_refused_for_now_and_kept_by_the_server(smtp_listener, monkeypatch):
    """451: the mail server keeps the bounce and offers it again; nothing is lost."""
    return_path, dsn = bounce_of("ada@example.net")

    def broken(*args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(bounces, "process", broken)
    with smtplib.SMTP(smtp_listener.hostname, smtp_listener.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as error:
            client.sendmail("", [return_path], dsn)
    assert error.value.smtp_code == 451
    monkeypatch.undo()
    with smtplib.SMTP(smtp_listener.hostname, smtp_listener.port, timeout=10) as client:
        client.sendmail("", [return_path], dsn)
    assert Suppression.objects.filter(address="ada@example.net").exists()
