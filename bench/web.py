"""HTTP benchmarks against a production-mode server (issue 7), run by ``make bench``.

Builds the data set in a scratch data folder (bench/dataset.py), starts Speakout as in
production (granian, one web process per core, Redis, the background worker) and nginx serving a
saved copy of the same report page (and granian alone answering with the page's bytes and headers
from memory: the ceiling of a page-cache hit under granian), then loads them with wrk (2 threads, 32 connections on
loopback). Every read runs three times and every post load five (SPEAKOUT_BENCH_POST_ROUNDS),
interleaved, reporting the median with min and max; posts also report the server's CPU per
reply. Reply posts run on SQLite and, when it answers, PostgreSQL. Writes a dated section to
docs/benchmarks.md (newest first) and stops everything it started.

``SPEAKOUT_BENCH_READS_ONLY=yes bench/web.py`` runs only the page and JSON reads (the first table)
and prints their figures, the web processes' CPU per request and their memory, writing nothing.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from wsgiref.util import is_hop_by_hop

from speakout.cli import DEFAULT_THREADS, granian_arguments

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv/bin/python")
# The server runs from a production install (`make bench` makes .venv-bench with
# `pip install -e ".[postgres,redis]"`): the test tools in .venv are not in production's memory.
SERVER_PY = os.path.abspath(os.environ.get("SPEAKOUT_BENCH_PYTHON") or PY)  # granian alone runs elsewhere
SECONDS = int(os.environ.get("SPEAKOUT_BENCH_SECONDS", "5"))
ROUNDS = 3
# Post runs vary more than reads (each side's SQLite lock waits): more of them, in turn.
POST_ROUNDS = int(os.environ.get("SPEAKOUT_BENCH_POST_ROUNDS", "5"))
THREADS, CONNECTIONS = 2, 32
# The Isso runs made in turn with the PostgreSQL runs (those made with the SQLite runs: "Isso").
ISSO_BESIDE_POSTGRESQL = "Isso beside PostgreSQL"
POSTGRES = os.environ.get("SPEAKOUT_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("SPEAKOUT_BENCH_REDIS", "redis://127.0.0.1:6379/0")

POSTS = int(os.environ.get("SPEAKOUT_BENCH_POSTS", "2000"))
ISSO_WORKERS = 4
# The same load for Speakout and Isso: POSTS new replies over the connections, each thread
# stopping once it has its share of answers; each thread prints when it started and finished.
POST_LUA = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } speakout_timeval;
int gettimeofday(speakout_timeval *tv, void *tz);
]]
local function now()
  local tv = ffi.new("speakout_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end
-- Names and texts in letters only: digits in a name look like a phone number to the
-- personal-data check, which (rightly) refuses the reply until the writer confirms.
local function letters(n)
  local out = ""
  repeat
    out = out .. string.char(97 + n % 26)
    n = math.floor(n / 26)
  until n == 0
  return out
end
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("number", threads)
  thread:set("tag", letters(threads * 7919 + os.time() % 100000))
end
local counter, answered, failed = 0, 0, 0
init = function(args)
  io.write(string.format("start %d %.6f\\n", number, now()))
  io.stdout:flush()
end
request = function()
  counter = counter + 1
  local word = tag .. "x" .. letters(counter)
  local body = string.format(BODY, word, word, word)
  return wrk.format("POST", PATH, {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  answered = answered + 1
  if status >= 300 then failed = failed + 1 end
  if answered == SHARE then
    io.write(string.format("done %d %.6f %d\\n", number, now(), failed))
    io.stdout:flush()
    wrk.thread:stop()
  end
end
"""
SPEAKOUT_BODY = (
    '{"name":"Bench %s","email":"bench-%s@example.org","body":"Benchmark reply %s, with **Markdown**.",'
    '"form_token":"TOKEN"}'
)
ISSO_BODY = (
    '{"author":"Bench %s","email":"bench-%s@example.org","text":"Benchmark reply %s, with **Markdown**.",'
    '"title":"Bench"}'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def settle(url: str, timeout: float = 30) -> None:
    """Wait until the server has worked off what an earlier run left queued (wrk closes its
    connections at the end of a run, but the requests already taken are still answered, on the
    same cores the next run measures): a cheap request must answer quickly twice running."""
    deadline = time.monotonic() + timeout
    quick = 0
    while quick < 2 and time.monotonic() < deadline:
        started = time.monotonic()
        urllib.request.urlopen(url, timeout=timeout).read()
        quick = quick + 1 if time.monotonic() - started < 0.05 else 0
        time.sleep(0.2)


def wrk(url: str, *, headers=(), script: str | None = None, seconds: int = SECONDS) -> dict:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = {}
    for label in ("50", "99"):
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
        value, unit = float(match.group(1)), match.group(2)
        latency[label] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return {"rate": rate, "total": total, "errors": int(errors.group(1)) if errors else 0, "p50": latency["50"],
            "p99": latency["99"]}  # fmt: skip


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


class Stack:
    """Everything started for one database: the server, the worker; stopped on exit."""

    def __init__(self, env: dict, port: int, workers: int = 0):
        self.env, self.port, self.processes = env, port, []
        self.workers = workers or os.cpu_count() or 1

    def start(self) -> None:
        log = open(Path(self.env["SPEAKOUT_DATA_DIR"]) / "server.log", "a")
        # granian exactly as `speakout run --workers N` starts it (its setup step already ran in
        # bench/dataset.py, and collecting static files twice takes minutes).
        arguments = granian_arguments("127.0.0.1", self.port, self.workers)
        self.processes.append(
            subprocess.Popen(
                [SERVER_PY, "-m", "granian", *arguments], env=self.env, cwd=ROOT, stdout=log, stderr=log,
                start_new_session=True,
            )
        )  # fmt: skip
        self.processes.append(
            subprocess.Popen(
                [SERVER_PY, "-m", "speakout.cli", "worker"], env=self.env, cwd=ROOT, stdout=log, stderr=log,
                start_new_session=True,
            )
        )  # fmt: skip
        wait_for(f"http://127.0.0.1:{self.port}/robots.txt", timeout=300)

    def memory_mb(self) -> dict[str, list[float]]:
        """Resident memory of the web processes (granian's workers) and the background worker,
        and the part of it each holds alone ("private": not the libraries' code pages that the
        processes share, which resident memory counts in every one of them)."""
        result = {"web": [], "worker": [], "web_private": [], "worker_private": []}
        tree = subprocess.run(["ps", "-eo", "pid,ppid,sid,rss,args"], capture_output=True, text=True).stdout
        for line in tree.splitlines()[1:]:
            pid, _ppid, sid, rss, args = line.split(None, 4)
            kind = None
            if int(sid) == self.processes[0].pid and "granian" in args and int(pid) != self.processes[0].pid:
                kind = "web"
            if int(sid) == self.processes[1].pid and int(pid) == self.processes[1].pid:
                kind = "worker"
            if kind:
                result[kind].append(int(rss) / 1024)
                result[f"{kind}_private"].append(private_kb(int(pid)) / 1024)
        return result

    def web_cpu_seconds(self) -> float:
        """User and system CPU time of granian's processes (nginx's runs count as 0)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.processes[0].pid:  # granian's session
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def stack_sessions(stack: Stack) -> dict[int, str]:
    """The sessions of a Speakout stack's processes: granian's (the web processes) and the worker's."""
    return {stack.processes[0].pid: "web", stack.processes[1].pid: "worker"}


def process_cpu(sessions: dict[int, str], database: str = "") -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each process of the given sessions ({session id: kind}) and,
    with ``database``, by the PostgreSQL backends serving that database (on the same cores:
    their parsing, planning and commits are part of what a reply costs): {pid: (kind, seconds)}."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace") if database else ""
        except OSError:
            continue
        # After the command: state, ppid, pgrp, session, ..., utime (12th), stime (13th).
        kind = sessions.get(int(fields[3]))
        if not kind and database and title.startswith("postgres: ") and f" {database} " in title:
            kind = "postgres"
        if kind:
            used[int(entry.name)] = (kind, (int(fields[11]) + int(fields[12])) / ticks)
    return used


class CpuWatch:
    """The CPU time each kind of process spends during a round. Read every quarter second, so a
    process that exits meanwhile (a database connection past its age is replaced) keeps what it
    used until its last reading; and the share of the machine's CPU left idle."""

    def __init__(self, sessions: dict[int, str], database: str = ""):
        self.sessions, self.database = sessions, database
        self.start = process_cpu(sessions, database)
        self.last = dict(self.start)
        self.idle_start = idle_ticks()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stop.wait(0.25):
            self.last.update(process_cpu(self.sessions, self.database))

    def finish(self) -> tuple[dict[str, float], float]:
        """CPU seconds per kind since the start, and the machine's idle share (0-1)."""
        self.stop.set()
        self.thread.join()
        self.last.update(process_cpu(self.sessions, self.database))
        idle_end = idle_ticks()
        used = {kind: 0.0 for kind in [*self.sessions.values(), "postgres"]}
        for pid, (kind, seconds) in self.last.items():
            used[kind] += seconds - self.start.get(pid, (kind, 0.0))[1]
        idle = (idle_end[0] - self.idle_start[0]) / max(1, idle_end[1] - self.idle_start[1])
        return used, idle


def idle_ticks() -> tuple[int, int]:
    """The machine's idle and total CPU ticks so far (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])


def private_kb(pid: int) -> int:
    """Private_Clean + Private_Dirty of a process (/proc/PID/smaps_rollup), in KB; 0 if gone."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return sum(int(line.split()[1]) for line in lines if line.startswith(("Private_Clean:", "Private_Dirty:")))


def environment(data_dir: Path, port: int, database_url: str = "") -> dict:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        SPEAKOUT_ENV="production", SPEAKOUT_DATA_DIR=str(data_dir), SPEAKOUT_SECRET_KEY=secrets.token_urlsafe(50),
        SPEAKOUT_ALLOWED_HOSTS="127.0.0.1,localhost,testserver", SPEAKOUT_BASE_URL=f"http://127.0.0.1:{port}",
        SPEAKOUT_SSL_REDIRECT="no", REDIS_URL=REDIS, SPEAKOUT_CACHE_PREFIX=f"bench-{os.getpid()}-{port}",
        SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES="0", SPEAKOUT_DISCUSSION_BURST_COUNT="0",
        SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT="0", SPEAKOUT_LOG_LEVEL="WARNING", SPEAKOUT_DEMO="0",
        SPEAKOUT_EMAIL_RATE_PER_MINUTE="0",
    )  # fmt: skip
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def count_rows(env: dict, thread_key: str) -> tuple[int, int]:
    """The thread's replies and the mails queued, once the worker has queued every reply
    notification due (it does so after each reply's commit) and sent every mail due: sending
    them while the next run (Isso's or ours) is measured would take its cores. Two minutes each
    at most."""
    code = (
        "import django,os,time;os.environ['DJANGO_SETTINGS_MODULE']='speakout.settings';django.setup();"
        "from django.utils import timezone;"
        "from speakout.discussion.models import Reply;from speakout.outbox.models import OutgoingMail;"
        "from speakout.subscriptions.models import NotifiedReply;end=time.monotonic()+120\n"
        "while NotifiedReply.objects.filter(notified_at__isnull=True).exists() and time.monotonic()<end:"
        " time.sleep(0.2)\n"
        "end=time.monotonic()+120\n"
        "while OutgoingMail.objects.filter(status__in=['pending','sending'],next_attempt_at__lte=timezone.now())"
        ".exists() and time.monotonic()<end: time.sleep(0.2)\n"
        f"print(Reply.objects.filter(thread__key={thread_key!r}).count(), OutgoingMail.objects.count())"
    )
    out = subprocess.run([PY, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    replies, mails = out.split()
    return int(replies), int(mails)


def build(env: dict) -> dict:
    out = subprocess.run([PY, str(ROOT / "bench/dataset.py")], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def post_load(base: str, path: str, body: str, scratch: Path) -> dict:
    """POSTS new replies over wrk's connections: the time from the first thread's start to the
    last one's finish, and how many answers were not a success."""
    script = scratch / "post.lua"
    header = f"local PATH = {json.dumps(path)}\nlocal BODY = {json.dumps(body)}\nlocal SHARE = {POSTS // THREADS}\n"
    script.write_text(header + POST_LUA)
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", "-d600s", "-s", str(script), base + "/"]
    marks: dict[str, list[float]] = {"start": [], "done": []}
    failed = 0
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in process.stdout:
            kind, *fields = line.split()
            if kind in marks:
                marks[kind].append(float(fields[1]))
                failed += int(fields[2]) if kind == "done" else 0
            if len(marks["done"]) == THREADS:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
    if len(marks["done"]) < THREADS:
        raise RuntimeError(f"the post load did not finish: {marks}")
    seconds = max(marks["done"]) - min(marks["start"])
    return {"rate": POSTS / seconds, "seconds": seconds, "failed": failed}


def post_replies(env: dict, base: str, data: dict, scratch: Path) -> dict:
    # One time-trap token (valid for a day) for every post: the API refuses posts without one.
    token = json.loads(fetch(base + data["api_url"])[0])["form_token"]
    before = count_rows(env, data["thread_key"])
    settle(base + "/robots.txt")
    result = post_load(
        base, f"/api/threads/{data['thread_key']}/replies", SPEAKOUT_BODY.replace("TOKEN", token), scratch
    )
    settle(base + "/robots.txt")  # posts taken before the end of the run are stored before counting
    after = count_rows(env, data["thread_key"])
    return {**result, "stored": after[0] - before[0], "mails": after[1] - before[1]}


def with_cpu(sessions: dict[int, str], run, database: str = "") -> dict:
    """A post run's result with the server's CPU time per stored reply (``cpu_ms``): every
    process of ``sessions`` and the database's backends, from the run's start to the end of its
    tail (the notifications queued and their mails sent)."""
    watch = CpuWatch(sessions, database)
    result = run()
    used, _idle = watch.finish()
    return {**result, "cpu_ms": sum(used.values()) * 1000 / max(1, result["stored"])}


class Isso:
    """Isso 0.14 under gunicorn (ISSO_WORKERS workers) from its own install (`make bench` makes
    .venv-isso), its guard (rate limits) and moderation off, notifications to the log."""

    def __init__(self, scratch: Path, port: int):
        self.root, self.port = scratch / "isso", port
        self.root.mkdir()
        self.database = self.root / "comments.db"
        (self.root / "isso.cfg").write_text(
            f"[general]\ndbpath = {self.database}\nhost = http://127.0.0.1:{port}/\nnotify = stdout\n"
            "[moderation]\nenabled = false\n[guard]\nenabled = false\n[server]\n"
            f"listen = http://127.0.0.1:{port}/\n"
        )
        python = ROOT / os.environ.get("SPEAKOUT_BENCH_ISSO_PYTHON", ".venv-isso/bin/python")
        log = open(self.root / "isso.log", "a")
        self.process = subprocess.Popen(
            [str(python), "-m", "gunicorn", "--workers", str(ISSO_WORKERS), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "isso.run:application"],
            env={**os.environ, "ISSO_SETTINGS": str(self.root / "isso.cfg")}, cwd=self.root, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{port}"
        wait_for(self.base + "/info", timeout=60)
        # The thread first, so the load only adds replies to it (as Speakout's does).
        request = urllib.request.Request(
            self.base + "/new?uri=%2Fbench%2F", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"author": "First", "text": "The first reply.", "title": "Bench"}).encode(),
        )  # fmt: skip
        urllib.request.urlopen(request).read()

    def stored(self) -> int:
        import sqlite3

        with sqlite3.connect(self.database) as connection:
            return connection.execute("SELECT count(*) FROM comments").fetchone()[0]

    def post_replies(self, scratch: Path) -> dict:
        before = self.stored()
        settle(self.base + "/info")
        result = post_load(self.base, "/new?uri=%2Fbench%2F", ISSO_BODY, scratch)
        settle(self.base + "/info")
        return {**result, "stored": self.stored() - before, "mails": None}

    def stop(self) -> None:
        # The whole group: gunicorn's workers too, killed if they outlast a graceful stop.
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def nginx(scratch: Path, page: bytes, port: int, name: str = "nginx") -> subprocess.Popen:
    root = scratch / name
    (root / "html").mkdir(parents=True)
    (root / "html/page.html").write_bytes(page)
    # nginx's workers run as another user: they must be able to reach and read the copy.
    for path in (scratch, root, root / "html"):
        path.chmod(0o755)
    (root / "html/page.html").chmod(0o644)
    (root / "nginx.conf").write_text(
        f"""daemon off; worker_processes {os.cpu_count() or 1}; pid {root}/nginx.pid; error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  server {{ listen 127.0.0.1:{port}; root {root}/html; default_type text/html;
           location / {{ try_files /page.html =404; }} }} }}
"""
    )
    process = subprocess.Popen(["nginx", "-c", str(root / "nginx.conf"), "-p", str(root)], start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/")
    return process


# granian serving the saved page, with the headers Speakout sent, from a three-line WSGI
# application in the same processes and threads: what any WSGI application answering with these
# bytes can do under granian on this machine, the ceiling of a page-cache hit.
GRANIAN_ALONE = "granian alone, the same answer from memory"
GRANIAN_ALONE_APP = """import json
from pathlib import Path

_here = Path(__file__).parent
_body = (_here / "page.html").read_bytes()
_headers = [*map(tuple, json.loads((_here / "headers.json").read_text())), ("Content-Length", str(len(_body)))]


def application(environ, start_response):
    start_response("200 OK", _headers)
    return [_body]
"""


def granian_alone(scratch: Path, page: bytes, headers: dict, port: int, workers: int) -> subprocess.Popen:
    root = scratch / f"granian-alone-{port}"
    root.mkdir()
    (root / "page.html").write_bytes(page)
    # Not the connection's headers (urllib asked to close it), nor those granian writes itself.
    own = ("content-length", "date", "server")
    kept = [[name, value] for name, value in headers.items() if name.lower() not in own and not is_hop_by_hop(name)]
    (root / "headers.json").write_text(json.dumps(kept))
    (root / "bare_page.py").write_text(GRANIAN_ALONE_APP)
    arguments = [*granian_arguments("127.0.0.1", port, workers)[:-1], "bare_page:application"]
    process = subprocess.Popen([SERVER_PY, "-m", "granian", *arguments], cwd=root, start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/")
    return process


def fetch(url: str, **headers) -> tuple[bytes, dict]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request) as response:
        return response.read(), dict(response.headers)


def weights(base: str, page_url: str) -> dict:
    html, _headers = fetch(base + page_url)
    gz, headers = fetch(base + page_url, **{"Accept-Encoding": "gzip"})
    br, _h = fetch(base + page_url, **{"Accept-Encoding": "br"})
    text = html.decode()
    assets = {"js": 0, "css": 0}
    for kind, pattern in (("js", r'<script[^>]+src="([^"]+)"'), ("css", r'<link rel="stylesheet" href="([^"]+)"')):
        for src in set(re.findall(pattern, text)):
            body, asset_headers = fetch(base + src, **{"Accept-Encoding": "gzip"})
            if asset_headers.get("Content-Encoding") != "gzip":
                body = gzip.compress(body)
            assets[kind] += len(body)
    static = re.findall(r'href="(/static/[^"]+\.css)"', text)
    static_headers = fetch(base + static[0])[1] if static else {}
    return {"html": len(html), "gzip": len(gz), "br": len(br), "js_gz": assets["js"], "css_gz": assets["css"],
            "gzip_served": headers.get("Content-Encoding") == "gzip", "static_name": static[0] if static else "",
            "static_cache": {k.lower(): v for k, v in static_headers.items()}.get("cache-control", "")}  # fmt: skip


def postgres_url(name: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return None
    try:
        with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
    except Exception:
        return None
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clear_redis_prefix(prefix: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{prefix}:*", count=1000):
            client.delete(key)
    except Exception:
        pass


def main() -> int:
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            print(f"{tool} is missing (bench/run.sh installs it)", file=sys.stderr)
            return 2
    os.environ["PATH"] += ":/usr/sbin"
    scratch = Path(tempfile.mkdtemp(prefix="speakout-bench-http-"))
    started: list = []
    databases: list[str] = []
    prefixes: list[str] = []
    try:
        port, nginx_port = free_port(), free_port()
        env = environment(scratch / "sqlite", port)
        (scratch / "sqlite").mkdir()
        prefixes.append(env["SPEAKOUT_CACHE_PREFIX"])
        print("Building the data set (SQLite)...", flush=True)
        data = build(env)
        # `make run`'s defaults first: one web process, no Redis (pages in the process, the versions
        # in files), SPEAKOUT_ENV left at development; the same data and the same 200-reply page as
        # the production runs (after the posts its thread holds 10,000 more), nginx serving it.
        print("make run's defaults...", flush=True)
        run_port, run_nginx_port = free_port(), free_port()
        run_env = {key: value for key, value in env.items() if key not in ("REDIS_URL", "SPEAKOUT_ENV")}
        run_env["SPEAKOUT_BASE_URL"] = f"http://127.0.0.1:{run_port}"
        run_stack = Stack(run_env, run_port, workers=1)
        started.append(run_stack)
        run_stack.start()
        run_base = f"http://127.0.0.1:{run_port}"
        run_page, run_headers = fetch(run_base + data["report_url"])
        run_nginx = nginx(scratch, run_page, run_nginx_port, name="nginx-run")
        started.append(run_nginx)
        run_alone_port = free_port()
        run_alone = granian_alone(scratch, run_page, run_headers, run_alone_port, workers=1)
        started.append(run_alone)
        defaults = {
            "nginx, static copy of the page": (f"http://127.0.0.1:{run_nginx_port}/", []),
            "Report page, anonymous (page cache)": (run_base + data["report_url"], []),
            GRANIAN_ALONE: (f"http://127.0.0.1:{run_alone_port}/", []),
        }
        default_results: dict[str, list[dict]] = {name: [] for name in defaults}
        for _round in range(ROUNDS):
            for name, (url, headers) in defaults.items():
                settle(run_base + "/robots.txt")
                default_results[name].append(wrk(url, headers=headers))
        run_stack.stop()
        for process in (run_nginx, run_alone):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()

        stack = Stack(env, port)
        started.append(stack)
        stack.start()
        base = f"http://127.0.0.1:{port}"
        page_url = base + data["report_url"]
        saved, saved_headers = fetch(page_url)
        fetch(page_url, **{"Accept-Encoding": "gzip"})
        fetch(base + data["api_url"])
        server = nginx(scratch, saved, nginx_port)
        started.append(server)
        alone_port = free_port()
        started.append(granian_alone(scratch, saved, saved_headers, alone_port, workers=stack.workers))
        weight = weights(base, data["report_url"])

        signed_in = [f"Cookie: {data['session_cookie']}={data['session']}"]
        guest = [f"X-Speakout-Guest: {data['guest_header']}"]
        writer = [f"Cookie: {data['session_cookie']}={data['writer_session']}"]
        writer_guest = [f"X-Speakout-Guest: {data['writer_guest_header']}"]
        runs = {
            "nginx, static copy of the page": (f"http://127.0.0.1:{nginx_port}/", []),
            "Report page, anonymous (page cache)": (page_url, []),
            GRANIAN_ALONE: (f"http://127.0.0.1:{alone_port}/", []),
            "Report page, anonymous, gzip (page cache)": (page_url, ["Accept-Encoding: gzip"]),
            "Report page, signed-in reader (uncached page, shared reply list)": (page_url, signed_in),
            "Report page, signed-in reader with a reply of their own (all rendered)": (page_url, writer),
            "Thread JSON, anonymous (uncached, shared reply list)": (base + data["api_url"], []),
            "Thread JSON, guest token (uncached, shared reply list)": (base + data["api_url"], guest),
            "Thread JSON, guest with a reply of their own (all rendered)": (base + data["api_url"], writer_guest),
        }
        results: dict[str, list[dict]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        for round_number in range(ROUNDS):
            print(f"Round {round_number + 1} of {ROUNDS}...", flush=True)
            for name, (url, headers) in runs.items():
                settle(base + "/robots.txt")
                before = stack.web_cpu_seconds()
                results[name].append(wrk(url, headers=headers))
                cpu[name].append((stack.web_cpu_seconds() - before) * 1000 / max(1, results[name][-1]["total"]))
        if os.environ.get("SPEAKOUT_BENCH_READS_ONLY", "no") == "yes":
            nginx_rate = statistics.median(run["rate"] for run in results["nginx, static copy of the page"])
            for name, runs in results.items():
                rate = statistics.median(run["rate"] for run in runs)
                print(f"{name}: {spread([run['rate'] for run in runs])} req/s, {rate / nginx_rate:.2f} of nginx, "
                      f"web CPU {spread(cpu[name], '{:.3f}')} ms a request")  # fmt: skip
            run_nginx_rate = statistics.median(run["rate"] for run in default_results["nginx, static copy of the page"])
            for name, runs in default_results.items():
                rate = statistics.median(run["rate"] for run in runs)
                print(f"make run's defaults, {name}: {spread([run['rate'] for run in runs])} req/s, "
                      f"{rate / run_nginx_rate:.3f} of nginx")  # fmt: skip
            print(alone_sentence(results, "the production settings"))
            print(alone_sentence(default_results, "`make run`'s defaults"))
            print(f"Memory (MB): {stack.memory_mb()}; load average {os.getloadavg()[0]:.1f}")
            return 0
        # Reply posts, Speakout and Isso in turn, while nothing else runs.
        isso = Isso(scratch, free_port())
        started.append(isso)
        posts: dict[str, list[dict]] = {"SQLite": [], "Isso": []}
        for round_number in range(POST_ROUNDS):
            print(f"Posts, round {round_number + 1} of {POST_ROUNDS}...", flush=True)
            posts["SQLite"].append(with_cpu(stack_sessions(stack), lambda: post_replies(env, base, data, scratch)))
            posts["Isso"].append(with_cpu({isso.process.pid: "isso"}, lambda: isso.post_replies(scratch)))
        isso.stop()
        memory = stack.memory_mb()
        stack.stop()

        name = f"speakout_bench_{os.getpid()}"
        url = postgres_url(name)
        if url:
            databases.append(name)
            port2 = free_port()
            env2 = environment(scratch / "postgres", port2, url)
            env2["SPEAKOUT_BENCH_GROWTH"] = "0"  # the growth series ran on SQLite
            # The same collected static files: collecting (and compressing) them again takes minutes.
            shutil.copytree(scratch / "sqlite/static", scratch / "postgres/static")
            prefixes.append(env2["SPEAKOUT_CACHE_PREFIX"])
            print("Building the data set (PostgreSQL)...", flush=True)
            data2 = build(env2)
            stack2 = Stack(env2, port2)
            started.append(stack2)
            stack2.start()
            # Isso again, in turn with these runs: the ratio compares runs made at the same time
            # (the machine's speed, and its disk's, drift over the minutes between the halves).
            isso2 = Isso(scratch / "postgres", free_port())
            started.append(isso2)
            posts["PostgreSQL"], posts[ISSO_BESIDE_POSTGRESQL] = [], []
            for round_number in range(POST_ROUNDS):
                print(f"Posts (PostgreSQL), round {round_number + 1} of {POST_ROUNDS}...", flush=True)
                posts["PostgreSQL"].append(
                    with_cpu(
                        stack_sessions(stack2),
                        lambda: post_replies(env2, f"http://127.0.0.1:{port2}", data2, scratch),
                        database=name,
                    )
                )
                posts[ISSO_BESIDE_POSTGRESQL].append(
                    with_cpu({isso2.process.pid: "isso"}, lambda: isso2.post_replies(scratch))
                )
            isso2.stop()
            stack2.stop()
        write_report(data, results, posts, memory, weight, default_results)
    finally:
        for item in started:
            if isinstance(item, (Stack, Isso)):
                item.stop()
            elif item.poll() is None:
                os.killpg(item.pid, signal.SIGTERM)
                item.wait(timeout=20)
        for name in databases:
            drop_postgres(name)
        for prefix in prefixes:
            clear_redis_prefix(prefix)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; load average {load:.1f} at the start"


def install() -> str:
    if SERVER_PY == PY:
        return "run from the development install `.venv`, test tools included"
    return f"run from a production install (`{Path(SERVER_PY).parent.parent.name}`, no test tools)"


def alone_sentence(results: dict[str, list[dict]], settings: str) -> str:
    """The cached page against granian alone serving the same answer, run by run (each pair was
    measured minutes apart at most: the machine's drift between rounds cancels)."""
    pairs = zip(results["Report page, anonymous (page cache)"], results[GRANIAN_ALONE], strict=True)
    shares = [page["rate"] / alone["rate"] for page, alone in pairs]
    return (
        f"Under {settings}, the cached page is {spread(shares, '{:.2f}')} of granian alone serving the same "
        f"answer (run by run); granian alone is {nginx_share(results, GRANIAN_ALONE)} of nginx."
    )


def nginx_share(results: dict[str, list[dict]], name: str) -> str:
    nginx_rate = statistics.median(run["rate"] for run in results["nginx, static copy of the page"])
    return f"{statistics.median(run['rate'] for run in results[name]) / nginx_rate:.3f}"


def write_report(data, results, posts, memory, weight, default_results) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    nginx_rates = [run["rate"] for run in results["nginx, static copy of the page"]]
    lines = [
        f"## HTTP, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (issue 7)",
        "",
        f"Machine: {machine()}. Commit {commit.stdout.strip() or 'unknown'}.",
        f"Settings: `SPEAKOUT_ENV=production`, granian (as `speakout run --workers {os.cpu_count()}` starts it: WSGI, "
        f"{os.environ.get('SPEAKOUT_THREADS', DEFAULT_THREADS)} blocking threads each; {install()}), "
        "Redis cache, SQLite (WAL) unless noted, "
        f"the background worker running; nginx 1.x serving a saved copy of the same page from a file. wrk on loopback, "
        f"{THREADS} threads, {CONNECTIONS} connections, {SECONDS} s per run, {ROUNDS} runs interleaved, each "
        "started once the server has answered what the one before left queued; figures are the median "
        "(min–max). The report has 200 threaded replies; one reader follows it, so "
        "every accepted reply queues a notification mail.",
        "",
        "| What | req/s | ratio to nginx | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        rates = [run["rate"] for run in runs]
        ratio = statistics.median(rates) / statistics.median(nginx_rates)
        errors = sum(run["errors"] for run in runs)
        note = f" ({errors} non-2xx)" if errors else ""
        lines.append(
            f"| {name}{note} | {spread(rates)} | {ratio:.3f} | {spread([r['p50'] for r in runs], '{:.1f}')} "
            f"| {spread([r['p99'] for r in runs], '{:.1f}')} |"
        )
    lines += ["", alone_sentence(results, "the production settings")]
    default_nginx = statistics.median(r["rate"] for r in default_results["nginx, static copy of the page"])
    lines += ["", "`make run`'s defaults (one web process with 2 threads, no Redis: pages kept in the process, "
              "their versions in files; SQLite; `SPEAKOUT_ENV` unset), measured first, on the same 200-reply "
              "page, and nginx serving a saved copy of that page:", "",
              "| What | req/s | ratio to nginx | p50 ms | p99 ms |", "|---|---|---|---|---|"]  # fmt: skip
    for name, runs in default_results.items():
        rates = [run["rate"] for run in runs]
        lines.append(
            f"| {name} | {spread(rates)} | {statistics.median(rates) / default_nginx:.3f} "
            f"| {spread([r['p50'] for r in runs], '{:.1f}')} | {spread([r['p99'] for r in runs], '{:.1f}')} |"
        )
    lines += ["", alone_sentence(default_results, "`make run`'s defaults")]
    # Each Speakout row against the Isso runs made in turn with it.
    beside = {
        "SQLite": "Isso",
        "Isso": "Isso",
        "PostgreSQL": ISSO_BESIDE_POSTGRESQL,
        ISSO_BESIDE_POSTGRESQL: ISSO_BESIDE_POSTGRESQL,
    }
    isso_rates = {name: statistics.median(r["rate"] for r in runs) for name, runs in posts.items() if "Isso" in name}
    lines += [
        "",
        f"Reply posts, side by side: {POSTS:,} new replies per run over {CONNECTIONS} connections, {POST_ROUNDS} "
        "runs each, every post a "
        "new writer, timed from the first request to the last answer. Speakout through its JSON API with every "
        "check on (personal-data guard, spam model, rate-limit bookkeeping; the limits and the time trap off by "
        f"environment); Isso 0.14 under gunicorn ({ISSO_WORKERS} workers, its own install, guard and moderation "
        "off, SQLite), in turn with the Speakout runs on SQLite and again with those on PostgreSQL; each ratio "
        "is to the Isso runs made in turn with it. Stored counts the runs' rows (posts in "
        "flight when a run ended are stored too); notifications are counted once the worker has queued them, "
        "and every run (Isso's too) starts once the worker has sent the mails the run before queued. Server CPU "
        "per reply: every process of the server (Speakout's web processes and worker, and on PostgreSQL the "
        "database's backends; Isso's gunicorn processes) from a run's start to its end, the worker's tail "
        "included, per stored reply: the machine's other load disturbs it less than the rate.",
        "",
        "| Server | replies/s | ratio to Isso | server CPU ms per reply | seconds per run | not stored (4xx/5xx) "
        "| stored | notifications queued |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "SQLite": "Speakout, SQLite",
        "Isso": "Isso 0.14, SQLite (in turn with Speakout on SQLite)",
        "PostgreSQL": "Speakout, PostgreSQL",
        ISSO_BESIDE_POSTGRESQL: "Isso 0.14, SQLite (in turn with Speakout on PostgreSQL)",
    }
    for database, runs in posts.items():
        rate = statistics.median(r["rate"] for r in runs)
        isso_rate = isso_rates[beside[database]]
        mails = "—" if runs[0]["mails"] is None else str(sum(r["mails"] for r in runs))
        lines.append(
            # A tenth of a reply and three decimals: a near tie must show which side is ahead.
            f"| {names[database]} | {spread([r['rate'] for r in runs], '{:.1f}')} | {rate / isso_rate:.3f} "
            f"| {spread([r['cpu_ms'] for r in runs], '{:.1f}')} "
            f"| {spread([r['seconds'] for r in runs], '{:.1f}')} | {sum(r['failed'] for r in runs)} "
            f"| {sum(r['stored'] for r in runs)} | {mails} |"
        )
    lines += ["", "Growth (server time in-process, a signed-in reader with a reply on the first page, so nothing of "
              "the discussion is cached; first page, 50 top-level replies a page, a conversation holding about four "
              "replies):", "", "| Replies | median ms | max ms | queries |", "|---|---|---|---|"]  # fmt: skip
    for row in data["growth"]:
        lines.append(f"| {row['replies']:,} | {row['median_ms']:.1f} | {row['max_ms']:.1f} | {row['queries']} |")
    lines += ["", "Database queries per request:", "", "| Request | queries |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in data["queries"].items()]
    web = ", ".join(f"{value:.0f}" for value in memory["web"]) or "n/a"
    worker = ", ".join(f"{value:.0f}" for value in memory["worker"]) or "n/a"
    web_private = ", ".join(f"{value:.0f}" for value in memory["web_private"]) or "n/a"
    worker_private = ", ".join(f"{value:.0f}" for value in memory["worker_private"]) or "n/a"
    lines += [
        "",
        f"Memory after the run (resident MB): web processes {web}; worker {worker}. Of that, held by the "
        f"process alone (private, without the shared libraries' code): web processes {web_private}; "
        f"worker {worker_private}.",
        f"Weight of the 200-reply page: {weight['html'] / 1024:.0f} KB of HTML, {weight['gzip'] / 1024:.1f} KB "
        f"gzipped, {weight['br'] / 1024:.1f} KB with brotli; its JavaScript {weight['js_gz'] / 1024:.1f} KB and CSS "
        f"{weight['css_gz'] / 1024:.1f} KB gzipped.",
        f"Static files: hashed names (e.g. `{weight['static_name']}`), `Cache-Control: {weight['static_cache']}`.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    target = ROOT / "docs/benchmarks.md"
    existing = target.read_text() if target.exists() else "# Benchmarks\n"
    title, _sep, rest = existing.partition("\n")
    out = Path(os.environ.get("SPEAKOUT_BENCH_HTTP_OUT", ""))
    if str(out) not in ("", "."):
        out.write_text(section)
    else:
        target.write_text(f"{title}\n\n{section}\n{rest.lstrip()}")


if __name__ == "__main__":
    sys.exit(main())
