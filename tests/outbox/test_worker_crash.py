"""The real ``speakout worker`` killed with SIGKILL in the middle of an SMTP conversation, then
started again: every queued mail reaches the (real, aiosmtpd) server exactly once.

Like a real mail server, the test's server keeps a message only once it has answered "250" to
it: a client that vanishes before that answer leaves nothing behind. After the first few mails it
stops answering (it holds every further message without a reply), and the test kills the worker
while it waits for that answer. The dead worker's mail stays "sending" until the claim timeout
passes; the restarted worker's sweep then sends it.

Why the server holds rather than merely answers slowly: with a slow answer, the kill can land a
moment after the answer, while the worker records "sent" (one database write) — the one instant
where no SMTP client can avoid a duplicate, and a timing accident of the test rather than a fault
of the outbox. Holding makes the moment of the kill certain.

The worker runs as a separate process on a database of its own (SQLite in a data folder, or a
throwaway PostgreSQL database when the test run uses PostgreSQL), exactly as ``make run`` starts it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.integration.server import create_database, drop_database, free_port, server_environment

MAILS = 12
ANSWERED_BEFORE_HOLDING = 3
DEADLINE_SECONDS = 180


class HoldingMailServer:
    """Answers the first messages at once, then holds each further one without an answer until
    the client goes away (aiosmtpd cancels the handler when the connection drops) or the test
    lets it answer again.

    It keeps the connections that are busy: from their first MAIL to QUIT. The worker sends
    from two threads (its task runner and its sweep), each a batch over one connection, and
    records "sent" before its next MAIL or its QUIT. So once the server is holding and every busy
    connection is held, no client has an answer it has not recorded, and none can get one: a
    kill from then on is a kill mid-send."""

    def __init__(self):
        self.envelopes = []
        self.busy = set()
        self.held = 0
        self.holding = False
        self.held_once = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.busy.add(id(session))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        self.busy.discard(id(session))
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        if len(self.envelopes) >= ANSWERED_BEFORE_HOLDING and not self.held_once:
            self.holding = True
        if self.holding:
            self.held += 1
            try:
                while self.holding:
                    await asyncio.sleep(0.05)
            finally:
                self.held -= 1
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def answer_again(self) -> None:
        self.held_once = True
        self.holding = False

    def every_conversation_held(self) -> bool:
        return self.holding and self.held >= 1 and self.held == len(self.busy)

    def message_ids(self) -> list[str]:
        ids = []
        for envelope in list(self.envelopes):
            for line in envelope.content.decode(errors="replace").splitlines():
                if line.lower().startswith("message-id:"):
                    ids.append(line.split(":", 1)[1].strip())
                    break
        return ids


MIGRATE_AND_QUEUE_MAILS = f"""
from django.core.management import call_command
from django.db import transaction
call_command("migrate", interactive=False, verbosity=0)
from speakout.outbox.services import queue_mail
with transaction.atomic():
    for number in range({MAILS}):
        queue_mail(f"reader{{number}}@example.org", f"Mail {{number}}", "Plain words", "<p>HTML words</p>")
"""

OUTBOX_ROWS = "SELECT message_id, status FROM speakout_outbox_outgoingmail ORDER BY id"


@pytest.fixture
def worker_env(tmp_path):
    smtp = HoldingMailServer()
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port())
    controller.start()
    postgres_server = os.environ.get("DATABASE_URL")
    database_url = create_database(postgres_server) if postgres_server else None
    data_dir = tmp_path / "data"
    env = server_environment(data_dir, free_port(), database_url)
    env.update(
        SPEAKOUT_EMAIL_HOST="127.0.0.1",
        SPEAKOUT_EMAIL_PORT=str(controller.port),
        SPEAKOUT_EMAIL_STARTTLS="false",
        SPEAKOUT_EMAIL_TIMEOUT="60",  # longer than any hold before the kill
        SPEAKOUT_EMAIL_FROM="Speakout <speakout@example.org>",
        SPEAKOUT_EMAIL_RATE_PER_MINUTE="0",
        SPEAKOUT_OUTBOX_SWEEP_SECONDS="1",
        SPEAKOUT_OUTBOX_CLAIM_TIMEOUT_SECONDS="12",  # well above a send, even on a loaded machine
        SPEAKOUT_SCHEDULER_INTERVAL="1",
    )
    try:
        yield env, smtp, tmp_path
    finally:
        controller.stop()
        if database_url:
            drop_database(postgres_server, database_url)


def speakout(env, tmp_path: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "speakout.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"speakout {args[:2]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def start_worker(env, tmp_path: Path, log_name: str) -> subprocess.Popen:
    log = open(tmp_path / log_name, "wb")  # noqa: SIM115 (kept open for the process's life)
    return subprocess.Popen(
        [sys.executable, "-m", "speakout.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def outbox(env) -> list[tuple[str, str]]:
    """The outbox rows, read straight from the worker's database."""
    if env.get("DATABASE_URL"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as connection:
            return [tuple(row) for row in connection.execute(OUTBOX_ROWS).fetchall()]
    with closing(sqlite3.connect(Path(env["SPEAKOUT_DATA_DIR"]) / "speakout.sqlite3")) as connection:
        return [tuple(row) for row in connection.execute(OUTBOX_ROWS).fetchall()]


def wait_for(condition, what: str, worker: subprocess.Popen, tmp_path: Path, log_name: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}):\n{(tmp_path / log_name).read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{(tmp_path / log_name).read_text()}")
        time.sleep(0.02)


def stop(worker: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(worker.pid, sig)
    except ProcessLookupError:
        pass
    worker.wait(timeout=30)


def test_worker_killed_mid_send_then_restarted_sends_every_mail_exactly_once(worker_env):
    env, smtp, tmp_path = worker_env
    speakout(env, tmp_path, "manage", "shell", "-c", MIGRATE_AND_QUEUE_MAILS)
    queued = outbox(env)
    assert len(queued) == MAILS and {status for _id, status in queued} == {"pending"}

    worker = start_worker(env, tmp_path, "worker-1.log")
    try:
        wait_for(
            smtp.every_conversation_held,
            "the worker to wait for the server's answer to its fourth mail or later",
            worker,
            tmp_path,
            "worker-1.log",
        )
        stop(worker)  # SIGKILL: no clean-up, no "finally"
    finally:
        if worker.poll() is None:
            stop(worker)
    delivered_before_restart = len(smtp.envelopes)
    statuses = [status for _id, status in outbox(env)]
    assert "sending" in statuses, "the kill should have caught a mail mid-send"
    assert delivered_before_restart < MAILS

    # The server drops what the dead worker left unanswered, as a real one would.
    deadline = time.monotonic() + 30
    while smtp.held and time.monotonic() < deadline:
        time.sleep(0.05)
    assert smtp.held == 0, "the server should have dropped the messages of the killed connections"
    smtp.answer_again()
    worker = start_worker(env, tmp_path, "worker-2.log")
    try:
        wait_for(
            lambda: len(smtp.envelopes) >= MAILS,
            "every mail to arrive after the restart",
            worker,
            tmp_path,
            "worker-2.log",
        )
        time.sleep(2)  # room for any duplicate to show up
    finally:
        stop(worker, signal.SIGINT)

    received = smtp.message_ids()
    queued_ids = {message_id for message_id, _status in queued}
    # Nothing lost: every queued mail arrived, and nothing arrived that was not queued.
    assert set(received) == queued_ids, "every mail arrives after the restart"
    assert {status for _id, status in outbox(env)} == {"sent"}
    # Nothing twice: the kill left no mail both accepted by the server and unrecorded.
    assert len(received) == MAILS, f"{len(received)} messages arrived for {MAILS} mails"
