"""``speakout bounces`` as the operator runs it: a real process on a free loopback port, with a
data folder of its own, takes a bounce over SMTP, records it, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import smtplib
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest
from django.utils.crypto import salted_hmac

from speakout.outbox import verp
from tests.integration.server import free_port, server_environment
from tests.outbox.returned import postfix_dsn

pytestmark = pytest.mark.server

ORIGINAL = b"From: Speakout <speakout@example.org>\r\nTo: ada@example.net\r\nSubject: Hello\r\n\r\nWords\r\n"


def wait_for_line(process: subprocess.Popen, text: str, seconds: float = 180) -> str:
    deadline = time.monotonic() + seconds
    seen = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never came; the command said:\n{seen}")


def test_the_command_records_a_bounce_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = server_environment(tmp_path, free_port(), None)
    env["SPEAKOUT_BOUNCE_ADDRESS"] = "bounces@example.org"
    process = subprocess.Popen(
        [sys.executable, "-m", "speakout.cli", "bounces", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_line(process, f"Receiving bounces over SMTP on 127.0.0.1:{port}")
        # A mail the site sent, written as the outbox writes it, in the command's own database.
        with closing(sqlite3.connect(tmp_path / "speakout.sqlite3")) as db, db:
            cursor = db.execute(
                'INSERT INTO speakout_outbox_outgoingmail ("to", subject, text_body, html_body, headers, language,'
                " status, attempts, next_attempt_at, last_error, created_at, sent_at, message_id)"
                " VALUES ('Ada@example.net', 'Hello', 'Words', '', '{}', '', 'sent', 1, '2026-12-05 17:00:00',"
                " '', '2026-12-05 17:00:00', '2026-12-05 17:00:00', '<a@example.org>')"
            )
            mail_id = cursor.lastrowid
        secret = (tmp_path / "secret_key").read_text().strip()
        tag = salted_hmac(verp.SALT, str(mail_id), secret=secret, algorithm="sha256").hexdigest()[: verp.TAG_LENGTH]
        return_path = f"bounces+m{mail_id:x}-{tag}@example.org"

        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("", ["bounces@example.org"], b"Subject: hi\r\n\r\nhi\r\n")
            client.sendmail("", [return_path], postfix_dsn(return_path, ORIGINAL, recipient="ada@example.net"))
        with closing(sqlite3.connect(tmp_path / "speakout.sqlite3")) as db:
            rows = db.execute("SELECT address, reason FROM speakout_outbox_suppression").fetchall()
        assert rows == [("ada@example.net", "hard_bounce")]

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert "Stopped." in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
