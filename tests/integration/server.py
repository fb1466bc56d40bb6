"""Run the real ``speakout run`` command as a subprocess, the way an operator starts the site.

The ``speakout_server`` fixture starts one server per test session (on the xdist worker that runs
the "server" group) and stops it at the end with SIGINT to its main process (``kill -INT``),
recording the exit code. ``start_server()`` starts a separate, short-lived one for tests that
need their own process (the shutdown tests); ``stop(whole_group=True)`` signals the whole process
group instead, as a terminal does on Ctrl-C.

Database: when the test run has ``DATABASE_URL`` (PostgreSQL), each server gets a fresh database
``speakout_e2e_<hex>`` on that server, dropped afterwards; otherwise the subprocess uses SQLite in
its own data folder. These tests never use pytest-django's ``db`` fixture: they talk to the
subprocess over HTTP or through the ``speakout`` command.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0

# A plain opener that never goes through a proxy from the environment.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a helper process to stop; kill it if it has not within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def port_accepts_connections(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def database_kind() -> str:
    """The test run's database: "postgres" when DATABASE_URL is set, else "sqlite"."""
    return "postgres" if os.environ.get("DATABASE_URL") else "sqlite"


# --- PostgreSQL: one throwaway database per server --------------------------------------------


def _connect(url: str, database: str | None = None):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or None,
        port=parts.port or None,
        user=parts.username or None,
        password=parts.password or None,
        dbname=database or parts.path.lstrip("/") or "postgres",
        autocommit=True,
    )


def create_database(server_url: str) -> str:
    """Create ``speakout_e2e_<hex>`` on the server in ``server_url``; return a URL for it."""
    from psycopg import sql

    name = f"speakout_e2e_{uuid.uuid4().hex[:12]}"
    with _connect(server_url, "postgres") as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def drop_database(server_url: str, database_url: str) -> None:
    from psycopg import sql

    name = urlsplit(database_url).path.lstrip("/")
    assert name.startswith("speakout_e2e_"), f"refusing to drop {name!r}"
    with _connect(server_url, "postgres") as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- Processes ---------------------------------------------------------------------------------


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, args) for every process, from ``ps``."""
    output = subprocess.run(
        # -ww: whole command lines (ps otherwise cuts them to $COLUMNS, and the port with them)
        ["ps", "-ww", "-eo", "pid=,ppid=,args="],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = {}
    for line in output.splitlines():
        fields = line.split(None, 2)
        if len(fields) >= 2:
            table[int(fields[0])] = (int(fields[1]), fields[2] if len(fields) > 2 else "")
    return table


def descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid`` (children, grandchildren...), as pid -> args."""
    table = process_table()
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, args) in table.items():
            if ppid == parent and child not in found:
                found[child] = args
                frontier.append(child)
    return found


def processes_of_server(port: int, data_dir: Path) -> dict[int, str]:
    """Live processes whose command line names ``port`` or whose environment has ``data_dir``.

    The environment catches the background worker, whose command line names no port: every
    process of one server inherits its unique SPEAKOUT_DATA_DIR.
    """
    port_pattern = re.compile(rf"--port[ =]{port}(\s|$)")
    data_setting = f"\0SPEAKOUT_DATA_DIR={data_dir}\0"
    found = {}
    me = os.getpid()
    for pid, (_ppid, args) in process_table().items():
        if pid == me or args.startswith("ps "):
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            environ, state = "", ""
        if state == "Z":
            continue  # a zombie is already gone; only its exit status is left to collect
        if port_pattern.search(args) or data_setting in "\0" + environ:
            found[pid] = args
    return found


@dataclass
class SpeakoutServer:
    port: int
    data_dir: Path
    log_path: Path
    env: dict[str, str]
    database_url: str | None = None  # None: SQLite in data_dir
    postgres_server_url: str | None = None
    process: subprocess.Popen | None = None
    admin_username: str | None = None
    admin_password: str | None = None
    exit_code: int | None = None
    children: dict[int, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.base_url

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, timeout: float = 20.0):
        """GET ``path``; returns (status, headers, body bytes) and never raises on 4xx/5xx."""
        try:
            with HTTP.open(self.url(path), timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def command(self, *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess:
        """Run ``python -m speakout.cli ARGS`` with this server's environment (data dir, DB)."""
        return subprocess.run(
            [sys.executable, "-m", "speakout.cli", *args],
            env=self.env,
            cwd=self.data_dir.parent,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def succeed(self, *args: str, timeout: float = 600.0) -> str:
        """Run ``speakout ARGS`` like ``command()``; fail the test unless it exits 0 without a
        traceback. Returns its output (standard output, then standard error)."""
        result = self.command(*args, timeout=timeout)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"speakout {' '.join(args)} exited {result.returncode}:\n{output}"
        assert "Traceback" not in output, output
        return output

    # Starting and stopping

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "speakout.cli", "run", "--port", str(self.port)],
                env=self.env,
                cwd=self.data_dir.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, like a shell job: Ctrl-C can be sent to the whole group
                # and nothing it leaves behind can be confused with the test run's own processes.
                start_new_session=True,
            )
        self._wait_until_ready()
        self.children = descendants(self.process.pid)
        self._read_admin_login()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.exit_code = self.process.returncode
                raise ServerError(f"`speakout run` exited with code {self.exit_code} before serving", self.log)
            try:
                status, _headers, _body = self.get("/", timeout=5)
                if status == 200:
                    return
                last_problem = f"home page answered {status}"
            except OSError as error:
                last_problem = str(error)
            time.sleep(0.25)
        self.stop()
        raise ServerError(
            f"`speakout run` did not serve the home page within {START_TIMEOUT:.0f} s ({last_problem})",
            self.log,
        )

    def _read_admin_login(self) -> None:
        user = re.search(r"^\s+user:\s+(\S+)\s*$", self.log, re.MULTILINE)
        password = re.search(r"^\s+password:\s+(\S+)\s*$", self.log, re.MULTILINE)
        self.admin_username = user.group(1) if user else None
        self.admin_password = password.group(1) if password else None

    def stop(self, whole_group: bool = False, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGINT, like Ctrl-C; wait up to ``timeout`` seconds; record and return the exit code.

        ``whole_group`` sends it to the process group (what a terminal does on Ctrl-C); otherwise
        only the main process gets it (``kill -INT <pid>``) and must stop its children itself.
        A process still running after ``timeout`` is killed, group and all, and its exit code is
        recorded as the negative signal number, so a test can tell.
        """
        if self.process is None:
            return None
        started = time.monotonic()
        if self.process.poll() is None:
            if whole_group:
                os.killpg(self.process.pid, signal.SIGINT)
            else:
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
                self.process.wait()
                self.exit_code = -signal.SIGKILL
                self._note(f"did not stop within {timeout:.0f} s of SIGINT; killed")
                return self.exit_code
        self.exit_code = self.process.returncode
        self._note(f"exit code {self.exit_code}, {time.monotonic() - started:.1f} s after SIGINT")
        return self.exit_code

    def _kill_group(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _note(self, message: str) -> None:
        with open(self.log_path, "a") as log:
            log.write(f"\n[test harness] speakout run: {message}\n")

    def leftover_processes(self) -> dict[int, str]:
        """Processes of this server still alive: a recorded child, or one naming its port/data."""
        alive = processes_of_server(self.port, self.data_dir)
        for pid, args in self.children.items():
            if pid in alive:
                continue
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue  # gone
            if stat.rsplit(")", 1)[1].split()[0] != "Z" and cmdline.strip() == args.strip():
                alive[pid] = args
        return alive

    def cleanup(self) -> None:
        """Make sure nothing is left running, then drop the PostgreSQL database, if any."""
        if self.process is not None and self.process.poll() is None:
            self.stop()
        if self.process is not None:
            self._kill_group()  # anything of the group that outlived its parent
        if self.database_url and self.postgres_server_url:
            drop_database(self.postgres_server_url, self.database_url)


class ServerError(Exception):
    def __init__(self, message: str, log: str):
        super().__init__(f"{message}\n--- output of `speakout run` ---\n{log}")


# The time trap of the servers these tests start: a form sent sooner after it was shown is held
# for a moderator. Shorter than the shipped 3 s, because a test that posts a reply as a person
# would must wait it out (tests/browser does so about twenty times); the trap itself, with the
# shipped default, is proven in-process by tests/discussion/test_policy.py and
# tests/contact/test_form.py.
TIME_TRAP_SECONDS = 1


def server_environment(data_dir: Path, port: int, database_url: str | None) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        # The test run's own settings (tests.settings, its data folder, its database) and any
        # operator setting in the caller's shell must not leak into the real command.
        if not name.startswith(("SPEAKOUT_", "DJANGO_"))
        and name not in {"DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        SPEAKOUT_DATA_DIR=str(data_dir),
        SPEAKOUT_HOST="127.0.0.1",
        SPEAKOUT_PORT=str(port),
        PYTHONUNBUFFERED="1",
        # Every browser in these tests posts from 127.0.0.1, so the per-client pause between
        # replies (and contact messages) would make them wait, and the forms' error tests would
        # spend the one client's refusal budget for the tests after them. The time trap is kept,
        # shorter (see TIME_TRAP_SECONDS); everything else stays as shipped.
        SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES="0",
        SPEAKOUT_DISCUSSION_BURST_COUNT="0",
        SPEAKOUT_DISCUSSION_REFUSAL_COUNT="0",
        SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES="0",
        SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT=str(TIME_TRAP_SECONDS),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _copy_sqlite(source: Path, target: Path) -> None:
    import sqlite3

    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def start_server(directory: Path, share_database_with: SpeakoutServer | None = None) -> SpeakoutServer:
    """Start ``speakout run`` with its data in ``directory``; return once the home page answers.

    By default it gets a database of its own (migrated and filled with the demo content on
    start). ``share_database_with`` saves that work for a test that only needs a process of its
    own: a PostgreSQL server's database is shared as it is, a SQLite one is copied.

    The caller must call ``stop()`` and then ``cleanup()`` (the latter also drops the database).
    """
    server = new_server(directory, share_database_with)
    try:
        server.start()
    except BaseException:
        server.cleanup()
        raise
    return server


def new_server(directory: Path, share_database_with: SpeakoutServer | None = None) -> SpeakoutServer:
    """A server's data folder, database and environment, not started: ``command()`` runs the
    ``speakout`` command against them, ``start()`` serves. The caller must call ``cleanup()``."""
    directory.mkdir(parents=True, exist_ok=True)
    data_dir = directory / "data"
    port = free_port()
    postgres_server_url = os.environ.get("DATABASE_URL") or None
    if share_database_with is not None:
        database_url = share_database_with.database_url
        postgres_server_url = None  # not ours to drop
        if database_url is None:
            _copy_sqlite(share_database_with.data_dir / "speakout.sqlite3", data_dir / "speakout.sqlite3")
    elif postgres_server_url:
        database_url = create_database(postgres_server_url)
    else:
        database_url = None
    server = SpeakoutServer(
        port=port,
        data_dir=data_dir,
        log_path=directory / "speakout-run.log",
        env=server_environment(data_dir, port, database_url),
        database_url=database_url,
        postgres_server_url=postgres_server_url,
    )
    return server


# --- The shared, session-wide server -----------------------------------------------------------
#
# The fixture is imported by tests/integration/conftest.py and tests/browser/conftest.py. Pytest
# then sees two definitions, so the process itself is kept here and shared by both: one start
# per test session, stopped when the last user is torn down.

_shared: dict = {"server": None, "error": None, "users": 0}


@pytest.fixture(scope="session")
def speakout_server(tmp_path_factory) -> SpeakoutServer:
    """The real ``speakout run`` serving the demo site on a free port (one per session)."""
    if _shared["error"] is not None:
        pytest.fail(str(_shared["error"]), pytrace=False)
    if _shared["server"] is None:
        try:
            _shared["server"] = start_server(tmp_path_factory.mktemp("speakout-server"))
        except ServerError as error:
            _shared["error"] = error
            pytest.fail(str(error), pytrace=False)
    _shared["users"] += 1
    try:
        yield _shared["server"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            server, _shared["server"] = _shared["server"], None
            try:
                server.stop()
            finally:
                server.cleanup()


# --- Keep the "server" group on one xdist worker -----------------------------------------------
#
# `pytest -n 2 --dist loadgroup` sends the tests of one xdist_group to one worker by adding
# "@<group>" to their node ids during the worker's collection. pytest-xdist 3.8 does that by
# writing ``item._nodeid``, which pytest 9.2's structured node ids (``item._id``) no longer
# read, so the groups are silently ignored and each worker would start its own server
# (pytest-dev/pytest-xdist#1386). Both test conftests import this hook; it adds the suffix the
# way the node id is stored now, and does nothing where xdist already did it or is not grouping.


def pytest_collection_modifyitems(config, items):
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = sorted(
            {
                str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                for mark in item.iter_markers("xdist_group")
            }
        )
        if not groups:
            continue
        suffix = "@" + "_".join(groups)
        nodeid = item.nodeid
        if nodeid.endswith(suffix) or not hasattr(item, "_id"):
            continue
        try:
            from _pytest.nodeid import coerce_node_id
        except ImportError:  # an older pytest: xdist's own suffix works there
            return
        item._id = coerce_node_id(nodeid + suffix)
