"""SQLite's faults: a database locked for longer than the busy timeout, and a full disk under
the data folder. Either way a reply gets the 503 "could not save" with its text, never a 500;
the database file stays intact (PRAGMA integrity_check) and works again once the cause is gone.

The disk is a small tmpfs mounted for the test (as root, where mounting works); elsewhere the
server's processes get a file-size limit (RLIMIT_FSIZE) just above the database's size, which
SQLite meets the same way: a write that cannot grow the file."""

from __future__ import annotations

import errno
import json
import os
import resource
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest

from tests.integration.server import descendants
from tests.reliability.harness import SQLITE_NAME, public_thread_key, run_sql
from tests.reliability.load import FORM_AGE, LETTERS

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("server")]

HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TEXT = "A reply that must come back whole when it cannot be saved — ✓ 𝄞 عربى."


class Poster:
    """Posts replies through the JSON API with one form token, old enough for the time trap."""

    def __init__(self, server):
        self.server = server
        self.key = public_thread_key(server)
        self.token = json.loads(server.get(f"/api/threads/{self.key}")[2])["form_token"]
        self.accepted: list[str] = []
        time.sleep(FORM_AGE)

    def post(self, body: str = TEXT) -> tuple[int, dict]:
        submission_id = uuid.uuid4().hex
        payload = {
            "name": "Sol",
            "email": "sol@example.org",
            "body": f"{body} {submission_id.translate(LETTERS)}",  # letters: digit runs look like phone numbers
            "form_token": self.token,
            "submission_id": submission_id,
        }
        request = urllib.request.Request(
            self.server.url(f"/api/threads/{self.key}/replies"),
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with HTTP.open(request, timeout=60) as response:
                status, answer = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, answer = error.code, json.loads(error.read() or b"{}")
        if status in (200, 201):
            self.accepted.append(submission_id)
        else:
            assert status == 503, (status, answer, self.server.log[-3000:])
            assert answer["submitted"]["body"] == payload["body"], answer
            assert "Could not save" in answer["errors"]["__all__"][0]
        return status, answer

    def all_accepted_are_stored(self) -> bool:
        stored = {
            row[0] for row in run_sql(None, self.server.data_dir, "SELECT submission_id FROM speakout_discussion_reply")
        }
        return set(self.accepted) <= stored


def integrity(server) -> list[tuple]:
    return run_sql(None, server.data_dir, "PRAGMA integrity_check")


def test_a_database_locked_too_long_gives_503_and_reading_goes_on(make_server):
    server = make_server(env={"SPEAKOUT_SQLITE_BUSY_TIMEOUT": "1"})
    poster = Poster(server)
    assert poster.post()[0] == 201

    # Another program (a backup, a long admin task) holds the write lock.
    holder = sqlite3.connect(server.data_dir / SQLITE_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        status, _answer = poster.post()
        waited = time.monotonic() - started
        assert status == 503
        assert 1 <= waited < 15, waited
        # Readers are not blocked by a writer in WAL mode.
        assert server.get("/")[0] == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert poster.post()[0] == 201
    assert poster.all_accepted_are_stored()
    assert integrity(server) == [("ok",)]
    assert server.process.poll() is None


def can_mount() -> bool:
    return os.geteuid() == 0 and subprocess.run(["mount", "--version"], capture_output=True).returncode == 0


@contextmanager
def small_disk(directory: Path, size_mb: int):
    """A tmpfs of ``size_mb`` at ``directory``; unmounted afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(directory)], check=True)
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the file system is full; returns it (delete it to free the space)."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):  # big pieces first, then whatever bytes are left
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
    finally:
        os.close(fd)
    return filler


def limit_file_size(server, limit: int) -> None:
    """RLIMIT_FSIZE for every process of the server (Python ignores SIGXFSZ, so a write past
    the limit fails with EFBIG instead of killing the process)."""
    for pid in [server.process.pid, *descendants(server.process.pid)]:
        try:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        except ProcessLookupError:
            pass


def test_a_full_disk_gives_503_and_the_database_stays_intact(make_server, base_site, tmp_path):
    base_size = (base_site.data_dir / SQLITE_NAME).stat().st_size
    mounted = can_mount()
    disk = tmp_path / "disk"
    with small_disk(disk, base_size // 2**20 + 48) if mounted else nullcontext(disk):
        server = make_server(data_dir=disk / "data")
        poster = Poster(server)
        assert poster.post()[0] == 201
        if mounted:
            filler = fill(disk)
        else:
            files = [server.data_dir / SQLITE_NAME, server.data_dir / f"{SQLITE_NAME}-wal"]
            limit_file_size(server, max(path.stat().st_size for path in files if path.exists()))

        # Replies still fit in pages the files already have; the first that needs more space
        # meets the full disk. Every one is either stored or answered 503 with its text.
        statuses = []
        while len(statuses) < 400 and statuses.count(503) < 3:
            statuses.append(poster.post()[0])
        assert 503 in statuses, f"the disk never filled up: {statuses}"
        assert server.get("/")[0] == 200, "reading stops with a full disk"
        assert integrity(server) == [("ok",)]

        if mounted:
            filler.unlink()
        else:
            limit_file_size(server, resource.RLIM_INFINITY)
        assert poster.post()[0] == 201, "saving did not resume once space was back"
        assert poster.all_accepted_are_stored()
        assert integrity(server) == [("ok",)]
        method = "tmpfs" if mounted else "RLIMIT_FSIZE"
        print(f"\nfull disk ({method}): {len(poster.accepted)} stored, {statuses.count(503)} answered 503, 0 lost")
        server.stop()
        server.cleanup()
