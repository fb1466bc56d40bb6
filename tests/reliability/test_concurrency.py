"""Four OS processes post 1,000 replies at once to a real server: every reply that got a
success answer is stored, none twice, none lost (SQLite in WAL mode with immediate
transactions in the SQLite run, PostgreSQL in the PostgreSQL run)."""

from __future__ import annotations

import time

import pytest

from tests.integration.server import database_kind
from tests.reliability.harness import public_thread_key, stored_submissions
from tests.reliability.load import figures, gather, run_clients

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("server")]

PROCESSES = 4
REPLIES = 1000
TIME_LIMIT = 150  # seconds for all of them; about 30 on an idle two-core machine


def test_four_processes_post_a_thousand_replies_and_none_is_lost_or_doubled(make_server):
    server = make_server()
    key = public_thread_key(server)
    marker = f"concurrency-{database_kind()}"
    started = time.monotonic()
    attempts = gather(
        run_clients(server.base_url, key, processes=PROCESSES, total=REPLIES, marker=marker), timeout=TIME_LIMIT
    )
    elapsed = time.monotonic() - started
    result = figures(attempts, stored_submissions(server, marker))
    print("\n" + result.line(f"{database_kind()}, {PROCESSES} processes, {elapsed:.1f} s"))

    assert result.attempts == REPLIES
    assert result.server_errors == 0, server.log[-3000:]
    assert result.no_answer == 0
    assert result.lost == 0
    assert result.duplicated == 0
    # Nothing was stored that its sender was not told about, and every refusal had a reason.
    assert result.stored == result.accepted
    assert all(a.code for a in attempts if not a.accepted)
    # Under this load (rate limits off, distinct texts) every reply is accepted.
    assert result.accepted == REPLIES, {a.code for a in attempts if not a.accepted}
