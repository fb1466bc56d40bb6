"""DKIM: mail sent through a real SMTP server (aiosmtpd) carries a signature that dkimpy
verifies against the key's DNS record; a changed message fails; no key, no signature."""

from __future__ import annotations

from email import message_from_bytes, policy

import dkim
import pytest
from django.core.management import call_command
from django.db import transaction

from speakout.outbox import signing
from speakout.outbox.services import queue_mail, send_due_mail

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def key() -> bytes:
    return signing.generate_key(1024)  # 1024 bits keep the test quick; the command makes 2048


def published(key: bytes, name: str = "speakout._domainkey.example.org."):
    record = signing.dns_record(key).encode()

    def dnsfunc(queried, timeout=5):
        queried = queried.decode() if isinstance(queried, bytes) else queried
        return record if queried.rstrip(".") == name.rstrip(".") else None

    return dnsfunc


def sent(smtp_server) -> bytes:
    with transaction.atomic():
        queue_mail(
            "ada@example.net",
            "Nueva respuesta: «Vivienda»",
            "Plain words, and a line that is long enough to be wrapped by something along the way, maybe.",
            "<p>HTML words</p>",
            headers={
                "List-Unsubscribe": "<https://example.org/u/abc>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            language="es",
        )
    send_due_mail()
    [envelope] = smtp_server.envelopes
    return envelope.original_content or envelope.content


def test_a_signature_from_the_environment_verifies(smtp_server, settings, key):
    settings.SPEAKOUT_DKIM_PRIVATE_KEY = key.decode().replace("\n", "\\n")  # one line, as in an env file
    raw = sent(smtp_server)
    message = message_from_bytes(raw, policy=policy.default)
    signature = str(message["DKIM-Signature"])
    assert "d=example.org" in signature and "s=speakout" in signature
    signed = signature.split("h=", 1)[1].split(";", 1)[0].replace(" ", "").lower().split(":")
    assert {"from", "to", "subject", "message-id", "list-unsubscribe", "list-unsubscribe-post"} <= set(signed)
    assert dkim.verify(raw, dnsfunc=published(key))
    tampered = raw.replace(b"Plain words", b"Other words")
    assert not dkim.verify(tampered, dnsfunc=published(key))
    other_key = signing.generate_key(1024)
    assert not dkim.verify(raw, dnsfunc=published(other_key))


def test_a_key_in_the_data_folder_signs_too(smtp_server, settings, key, tmp_path):
    settings.SPEAKOUT_DKIM_KEY_FILE = str(tmp_path / "speakout.pem")
    (tmp_path / "speakout.pem").write_bytes(key)
    settings.SPEAKOUT_DKIM_DOMAIN = "mail.example.org"
    raw = sent(smtp_server)
    assert dkim.verify(raw, dnsfunc=published(key, "speakout._domainkey.mail.example.org"))


def test_without_a_key_mail_is_not_signed(smtp_server, settings, tmp_path):
    settings.SPEAKOUT_DKIM_KEY_FILE = str(tmp_path / "missing.pem")
    raw = sent(smtp_server)
    assert "DKIM-Signature" not in message_from_bytes(raw, policy=policy.default)


def test_the_key_command_writes_a_private_key_and_prints_its_record(settings, tmp_path, capsys):
    settings.SPEAKOUT_DKIM_KEY_FILE = str(tmp_path / "dkim" / "speakout.pem")
    call_command("dkim_key", bits=1024)
    written = (tmp_path / "dkim" / "speakout.pem").read_bytes()
    assert (tmp_path / "dkim" / "speakout.pem").stat().st_mode & 0o077 == 0, "readable by its owner only"
    output = capsys.readouterr().out
    assert "speakout._domainkey.example.org" in output
    assert signing.dns_record(written) in output
    call_command("dkim_key")
    assert (tmp_path / "dkim" / "speakout.pem").read_bytes() == written, "an existing key is kept"
