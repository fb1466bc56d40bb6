"""The ``speakout`` command: run the site, run the worker, or any management command.

    speakout run        migrate, load demo content, print the admin login, serve with granian
                        and run the background worker beside it (Ctrl-C stops both)
    speakout worker     the background worker: queued tasks plus the scheduled jobs
    speakout setup      migrate, load demo content and print the admin login, then exit
    speakout manage ... any Django management command (``speakout manage createsuperuser``)
    speakout import FILE / export / backup / restore ARCHIVE   see docs/interchange.md
    speakout bounces    receive bounces from the mail server over SMTP or LMTP (docs/email.md)

Every setting comes from the environment (see docs/configuration.md); the command line only
overrides where to listen.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

# Threads per web process (``SPEAKOUT_THREADS``). Processes use the cores; threads only let a
# process work while a request waits on the database or Redis. Each thread's share of a heavy
# render stays allocated after the peak: under the benchmark's load 4 threads left a process about
# 5 MB larger than 2, with no more throughput (docs/production.md).
DEFAULT_THREADS = "2"


class SetupProblem(Exception):
    """A configuration mistake, told in one line (no traceback) with what to do about it."""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "speakout.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        raise SetupProblem(str(error)) from error
    from django.db import DatabaseError, connection

    try:
        connection.ensure_connection()
    except DatabaseError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SetupProblem(f"The database cannot be reached (check DATABASE_URL): {first_line}") from error


# Management commands that are about migrations themselves: they run on the database as it is.
MIGRATION_COMMANDS = {"migrate", "makemigrations", "showmigrations", "sqlmigrate", "squashmigrations", "help"}


def _bring_database_up_to_date() -> None:
    """Apply pending migrations, so every command works on a new data folder."""
    from speakout.interchange.backup import migrations_pending

    if migrations_pending():
        from django.core.management import call_command

        print("Bringing the database up to date first (as `speakout setup` does)…", file=sys.stderr, flush=True)
        call_command("migrate", "--no-input", "--verbosity", "0")


def _restores_into_a_new_database(command: str) -> bool:
    """`restore` replaces the whole database with the archive's: on a database nothing has set
    up, migrating it first (about 15 s) would only be thrown away."""
    if command != "restore":
        return False
    from speakout.interchange.backup import database_is_new

    return database_is_new()


def setup(load_demo: bool = True) -> None:
    """Bring the database up to date, add the demo content once, and make sure an admin exists."""
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", "--no-input", "--verbosity", "0")
    if settings.PRODUCTION:
        call_command("collectstatic", "--no-input", "--verbosity", "0")
    call_command("speakout_sync_site")
    if load_demo:
        call_command("speakout_load_demo")
    call_command("speakout_ensure_admin")


def _start(command: list[str]) -> subprocess.Popen:
    # Each child gets its own session: a terminal's Ctrl-C then reaches only this parent, which
    # stops every child exactly once (a second signal makes some of them abort work midway).
    return subprocess.Popen(command, start_new_session=True)


def _terminate(processes: list[subprocess.Popen], grace: float = 15.0) -> bool:
    """Stop the children; True if all stopped by themselves within ``grace`` seconds."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    clean = True
    deadline = time.monotonic() + grace
    for process in processes:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            clean = False
        # Kill whatever is left in the child's group (granian's own worker processes included).
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()
    return clean


def granian_arguments(host: str, port: int, workers: int) -> list[str]:
    """granian's command line for the web processes (``make bench`` starts them the same way)."""
    arguments = [
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(int(os.environ.get("SPEAKOUT_THREADS", DEFAULT_THREADS))),
        "--no-ws",
        "--log-level",
        "warning",
        "--workers-kill-timeout",
        "5",
    ]
    if os.environ.get("SPEAKOUT_BACKPRESSURE"):
        # Requests a process takes on at once; beyond it granian queues at the socket.
        arguments += ["--backpressure", os.environ["SPEAKOUT_BACKPRESSURE"]]
    return [*arguments, "speakout.wsgi:application"]


def run(host: str, port: int, workers: int, with_worker: bool, load_demo: bool) -> int:
    if workers > 1 and not os.environ.get("REDIS_URL"):
        # Caches, rate limits and job locks must be shared between processes.
        print("Several web processes need a shared cache: set REDIS_URL (see docs/production.md).", file=sys.stderr)
        return 2
    setup(load_demo=load_demo)
    from django.conf import settings

    server = [sys.executable, "-m", "granian", *granian_arguments(host, port, workers)]
    processes = [_start(server)]
    if with_worker:
        processes.append(_start([sys.executable, "-m", "speakout.cli", "worker"]))
    shown_host = f"[{host}]" if ":" in host else host
    print(f"Speakout is serving http://{shown_host}:{port}/ (public address {settings.BASE_URL})", flush=True)
    print("Press Ctrl-C to stop.", flush=True)

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        if any(process.poll() is not None for process in processes):
            print("A Speakout process stopped unexpectedly; stopping the rest.", file=sys.stderr)
            _terminate(processes)
            return 1
        time.sleep(0.2)
    if not _terminate(processes):
        print("Speakout stopped, but a process had to be killed.", file=sys.stderr, flush=True)
        return 1
    print("Speakout stopped.", flush=True)
    return 0


def worker(interval: int | None) -> int:
    from speakout.memory import leave_out_unused_libraries, tune

    tune()  # see speakout/memory.py
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "speakout.settings")
    from django.conf import settings

    leave_out_unused_libraries(settings)  # before the apps load, as in a web process
    _setup_django()
    from speakout.memory import settle
    from speakout.worker import lower_priority, run_worker

    lower_priority()
    settle()
    return run_worker(interval)


INTERCHANGE_COMMANDS = {
    "import": "speakout_import",
    "export": "speakout_export",
    "backup": "speakout_backup",
    "restore": "speakout_restore",
    "import-subscribers": "speakout_import_subscribers",
    "export-subscribers": "speakout_export_subscribers",
    "bounces": "speakout_bounces",
}


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except SetupProblem as problem:
        print(f"speakout: {problem}", file=sys.stderr, flush=True)
        return 2


def _asks_for_help(args: list[str]) -> bool:
    return bool({"-h", "--help"} & set(args))


def _execute(command_line: list[str], *, migrate_first: bool) -> int:
    """Run a management command (Django is set up), on an up-to-date database if asked."""
    if migrate_first:
        _bring_database_up_to_date()
    from django.core.management import execute_from_command_line

    execute_from_command_line(command_line)
    return 0


def _main(argv: list[str]) -> int:
    if argv[:1] and argv[0] in INTERCHANGE_COMMANDS:
        # Thin entries for the interchange app's management commands (their own --help applies).
        _setup_django()
        migrate_first = not _asks_for_help(argv[1:]) and not _restores_into_a_new_database(argv[0])
        return _execute([f"speakout {argv[0]}", INTERCHANGE_COMMANDS[argv[0]], *argv[1:]], migrate_first=migrate_first)
    if argv[:2] == ["federation", "rotate-key"]:
        _setup_django()
        command_line = ["speakout federation rotate-key", "federation_rotate_key", *argv[2:]]
        return _execute(command_line, migrate_first=not _asks_for_help(argv[2:]))
    if argv[:1] == ["manage"]:
        _setup_django()
        migrate_first = bool(argv[1:]) and argv[1] not in MIGRATION_COMMANDS and not _asks_for_help(argv[1:])
        return _execute(["speakout manage", *argv[1:]], migrate_first=migrate_first)

    # No docstrings under ``python -OO``.
    parser = argparse.ArgumentParser(prog="speakout", description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="serve the site and run the worker")
    run_parser.add_argument("--host", default=os.environ.get("SPEAKOUT_HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("SPEAKOUT_PORT", "8000")))
    run_parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("SPEAKOUT_WEB_PROCESSES", "1")),
        help="web processes (default 1, or SPEAKOUT_WEB_PROCESSES)",
    )
    run_parser.add_argument("--no-worker", action="store_true", help="do not start the background worker")
    run_parser.add_argument("--no-demo", action="store_true", help="do not load demo content")
    worker_parser = commands.add_parser("worker", help="run the background worker")
    worker_parser.add_argument("--interval", type=int, default=None, help="seconds between scheduled runs")
    setup_parser = commands.add_parser("setup", help="migrate, load demo content, ensure an admin")
    setup_parser.add_argument("--no-demo", action="store_true")
    commands.add_parser("manage", help="run a Django management command")
    commands.add_parser("import", help="import a WordPress, Disqus or Isso export (FILE, --format, --dry-run, ...)")
    commands.add_parser("export", help="export the site (--format wxr|json, --output FILE)")
    commands.add_parser("backup", help="write a backup archive")
    commands.add_parser("restore", help="restore a backup archive into an empty instance")
    commands.add_parser("import-subscribers", help="import WordPress.com's subscriber list (CSV)")
    commands.add_parser("export-subscribers", help="export the new-post subscribers as CSV")
    federation_parser = commands.add_parser("federation", help="the Fediverse: rotate-key (a new actor key)")
    federation_parser.add_argument("action", choices=["rotate-key"])
    commands.add_parser("bounces", help="receive bounces from the mail server over SMTP or LMTP (--port, --lmtp)")

    args = parser.parse_args(argv)
    load_demo = not getattr(args, "no_demo", False) and os.environ.get("SPEAKOUT_DEMO", "1") != "0"
    if args.command == "run":
        os.environ["SPEAKOUT_HOST"] = args.host
        os.environ["SPEAKOUT_PORT"] = str(args.port)
        return run(args.host, args.port, args.workers, not args.no_worker, load_demo)
    if args.command == "worker":
        return worker(args.interval)
    if args.command == "setup":
        setup(load_demo=load_demo)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
