"""Real servers for the load and fault tests, on copies of one prepared site, and a private
PostgreSQL cluster that a test may stop.

``speakout setup`` (migrate, demo content) runs once per test session into a base database;
each test gets a copy of it (a SQLite file copied with the backup API, or a PostgreSQL database
made with ``CREATE DATABASE ... TEMPLATE``), so a server starts in seconds instead of half a
minute. The shared PostgreSQL server on 5432 is never stopped: a test that stops PostgreSQL
starts its own cluster (``PrivatePostgres``) on a free port in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.integration.server import (
    SpeakoutServer,
    _connect,
    create_database,
    drop_database,
    free_port,
    server_environment,
)

SQLITE_NAME = "speakout.sqlite3"
DIGITS = str.maketrans("ghijklmnop", "0123456789")  # undoes load.LETTERS
# Shipped settings, except what would make one loopback client wait between its own replies.
LOAD_ENV = {"SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES": "0", "SPEAKOUT_DISCUSSION_BURST_COUNT": "0"}


# Two web processes, as in production, so writes really come from several processes at once.
# They must share the cache (rate limits, page cache): Redis, in a database other than 0 and
# under a prefix of the server's own, so nothing else's keys are touched.
WEB_PROCESSES = 2
REDIS_URL = os.environ.get("SPEAKOUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def shared_cache_env() -> dict[str, str]:
    return {
        "SPEAKOUT_WEB_PROCESSES": str(WEB_PROCESSES),
        "REDIS_URL": REDIS_URL,
        "SPEAKOUT_CACHE_PREFIX": f"speakout-test-{uuid.uuid4().hex[:12]}",
    }


@dataclass
class BaseSite:
    """A migrated database with the demo content, copied for each test's server."""

    data_dir: Path
    database_url: str | None  # None: SQLite in data_dir
    postgres_server_url: str | None

    def cleanup(self) -> None:
        if self.database_url and self.postgres_server_url:
            drop_database(self.postgres_server_url, self.database_url)


def prepare_base(directory: Path) -> BaseSite:
    postgres_server_url = os.environ.get("DATABASE_URL") or None
    database_url = create_database(postgres_server_url) if postgres_server_url else None
    data_dir = directory / "data"
    env = server_environment(data_dir, free_port(), database_url)
    result = subprocess.run(
        [sys.executable, "-m", "speakout.cli", "setup"],
        env=env,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    base = BaseSite(data_dir, database_url, postgres_server_url)
    if result.returncode != 0:
        base.cleanup()
        raise RuntimeError(f"speakout setup failed:\n{result.stdout}\n{result.stderr}")
    # Replies publish at once, so a retried submission after a lost answer is shown to its
    # sender (a held one is only shown to the guest token the lost answer carried).
    run_sql(base.database_url, data_dir, "UPDATE speakout_discussion_discussionsettings SET hold_first_reply = false")
    return base


def copy_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def clone_database(base: BaseSite, data_dir: Path) -> str | None:
    """A copy of the base database for one server; returns its URL (None: SQLite in data_dir)."""
    if base.database_url is None:
        copy_sqlite(base.data_dir / SQLITE_NAME, data_dir / SQLITE_NAME)
        return None
    from psycopg import sql

    name = f"speakout_e2e_{uuid.uuid4().hex[:12]}"
    template = urlsplit(base.database_url).path.lstrip("/")
    with _connect(base.postgres_server_url, "postgres") as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    parts = urlsplit(base.postgres_server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def make_server(
    base: BaseSite,
    directory: Path,
    *,
    env: dict[str, str] | None = None,
    database_url: str | None = None,
    data_dir: Path | None = None,
) -> SpeakoutServer:
    """A server (not started) on a copy of the base, or on ``database_url`` when given.

    ``cleanup()`` drops the copy. ``data_dir`` puts the data folder somewhere else (a small
    file system, for the full-disk test).
    """
    directory.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir or directory / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    own_copy = database_url is None
    if own_copy:
        database_url = clone_database(base, data_dir)
    port = free_port()
    server = SpeakoutServer(
        port=port,
        data_dir=data_dir,
        log_path=directory / "speakout-run.log",
        env={**server_environment(data_dir, port, database_url), **LOAD_ENV, **shared_cache_env(), **(env or {})},
        database_url=database_url,
        postgres_server_url=base.postgres_server_url if own_copy else None,
    )
    return server


# --- Looking at what was stored ------------------------------------------------------------------


def run_sql(database_url: str | None, data_dir: Path, statement: str, params: tuple = ()) -> list[tuple]:
    """Run one statement on a server's database from the test process; returns its rows."""
    if database_url is None:
        connection = sqlite3.connect(data_dir / SQLITE_NAME, timeout=30)
        try:
            with connection:
                return connection.execute(statement.replace("%s", "?"), params).fetchall()
        finally:
            connection.close()
    with _connect(database_url) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def stored_submissions(server: SpeakoutServer, marker: str) -> dict[str, int]:
    """submission id -> how many replies carry it, for replies whose body has ``marker``.

    The id is read from the body (see load.py), so a copy stored under another id or none
    would count as a second one."""
    rows = run_sql(
        server.database_url,
        server.data_dir,
        "SELECT body FROM speakout_discussion_reply WHERE body LIKE %s",
        (f"%{marker}%",),
    )
    counts: dict[str, int] = {}
    for (body,) in rows:
        key = body.rsplit(" ", 1)[-1].translate(DIGITS)
        counts[key] = counts.get(key, 0) + 1
    return counts


def public_thread_key(server: SpeakoutServer) -> str:
    rows = run_sql(
        server.database_url,
        server.data_dir,
        "SELECT key FROM speakout_discussion_thread WHERE is_public = %s AND status = %s ORDER BY id",
        (True, "open"),
    )
    assert rows, "the demo site has no open public thread"
    return rows[0][0]


# --- A PostgreSQL cluster of the test's own ------------------------------------------------------


def postgres_bin(name: str) -> str:
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    found = str(candidates[-1]) if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (looked in /usr/lib/postgresql/*/bin and PATH)")
    return found


class PrivatePostgres:
    """``initdb`` + ``pg_ctl`` in a temporary folder, on a free port of 127.0.0.1.

    PostgreSQL refuses to run as root, so as root its programs run as the ``postgres`` user
    through ``runuser``, in a folder that user owns.
    """

    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="speakout-pg-"))
        self.data = self.directory / "cluster"
        self.log = self.directory / "postgres.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")

    @property
    def server_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [*self.as_postgres, *command], capture_output=True, text=True, timeout=timeout, cwd=self.directory
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}\n{self.log_text()}")
        return result.stdout

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def initialise(self) -> None:
        self._run(postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.directory} "
            "-c fsync=off -c full_page_writes=off -c max_connections=50"
        )
        (self.data / "speakout.options").write_text(options)  # read back by start()
        self.start()

    def start(self) -> None:
        options = (self.data / "speakout.options").read_text()
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        result = subprocess.run(
            [*self.as_postgres, postgres_bin("pg_ctl"), "-D", str(self.data), "status"], capture_output=True
        )
        return result.returncode == 0

    def load_from(self, source_url: str, name: str = "speakout") -> str:
        """Copy the database at ``source_url`` into a new database here; return its URL."""
        with _connect(self.server_url, "postgres") as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        target = f"postgres://postgres@127.0.0.1:{self.port}/{name}"
        dump = subprocess.run(
            [postgres_bin("pg_dump"), "--no-owner", "--no-privileges", source_url],
            capture_output=True,
            check=True,
            timeout=120,
        )
        subprocess.run(
            [postgres_bin("psql"), "--quiet", "--set", "ON_ERROR_STOP=1", target],
            input=dump.stdout,
            capture_output=True,
            check=True,
            timeout=120,
        )
        return target

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            try:
                self.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_until(condition, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
