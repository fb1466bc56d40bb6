"""kill -9 of the whole server mid-load, then a restart: every reply that got a success answer
is stored, once. Clients whose request died with the server send it again (same submission id)
after the restart, and get the stored reply back instead of a second copy."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.integration.server import database_kind, descendants
from tests.reliability.harness import public_thread_key, run_sql, stored_submissions, wait_until
from tests.reliability.load import figures, gather, run_clients

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("server")]

REPLIES = 400
RETRY_SECONDS = 150  # clients keep resending unanswered replies this long (covers the restart)


def kill_server(server) -> list[int]:
    """SIGKILL `speakout run` and everything it started (granian and its workers, the worker)."""
    pids = [server.process.pid, *descendants(server.process.pid)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait(timeout=10)
    return pids


def test_replies_answered_before_a_kill_9_are_there_after_the_restart(make_server):
    server = make_server()
    key = public_thread_key(server)
    marker = f"kill-{database_kind()}"
    futures = run_clients(
        server.base_url,
        key,
        processes=4,
        total=REPLIES,
        marker=marker,
        retry_until=time.time() + RETRY_SECONDS,
        request_timeout=10,
    )
    assert wait_until(lambda: len(stored_submissions(server, marker)) >= REPLIES // 4, timeout=120), server.log[-3000:]
    killed = kill_server(server)
    stored_at_kill = len(stored_submissions(server, marker))
    time.sleep(1)  # the clients meet a closed port for a while
    server.start()  # the same data folder and database, as an operator would restart it
    attempts = gather(futures, timeout=RETRY_SECONDS + 60)
    result = figures(attempts, stored_submissions(server, marker))
    resent = sum(1 for a in attempts if 0 in a.answers)
    print(
        "\n"
        + result.line(f"{database_kind()}, kill -9 of {len(killed)} processes after {stored_at_kill} stored")
        + f"; {resent} sent again after the restart"
    )

    assert resent > 0, "the kill did not interrupt any request"
    assert result.server_errors == 0, server.log[-3000:]
    assert result.lost == 0
    assert result.duplicated == 0
    # Every reply was answered in the end: those cut off by the kill were sent again.
    assert result.no_answer == 0 and result.unavailable == 0
    assert result.accepted == result.stored == REPLIES
    if server.database_url is None:
        assert run_sql(None, server.data_dir, "PRAGMA integrity_check") == [("ok",)]
