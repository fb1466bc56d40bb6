"""The background worker: django-tasks' database worker plus a small clock for scheduled jobs.

Scheduled jobs are listed in ``settings.SPEAKOUT_SCHEDULED_JOBS`` as ``(name, every_seconds,
dotted path)``. The clock runs in a thread beside the task worker, so nothing needs cron. When
several workers share a cache (Redis in production), a cache lock lets only one of them run a
given job per period; with the local cache each worker runs its own clock, which is right for the
single-worker embedded default.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("speakout.worker")


# How long a task enqueued by enqueue_unless_waiting waits before it starts, gathering the work
# that comes meanwhile. Without it a busy site made a task per write: the worker starts a task
# at once, so the next write found none waiting, and every task costs the queue writes of its own.
GATHER_SECONDS = 1.0


def enqueue_unless_waiting(task) -> None:
    """Enqueue ``task`` (one taking no arguments) unless one already waits in the queue.

    Meant to run after a commit (``transaction.on_commit``): a task still "ready" then is started
    after the commit, so it finds what was just stored. The task starts GATHER_SECONDS later, so a
    burst of writes makes a task per second instead of one per write. Queues other than
    django-tasks' database backend, which cannot be asked what waits, get a task every time
    (started at once where they cannot defer one)."""
    if _task_waiting(task):
        return
    if GATHER_SECONDS and task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + timedelta(seconds=GATHER_SECONDS))
    task.enqueue()


def _task_waiting(task) -> bool:
    try:
        from django_tasks import TaskResultStatus
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return False
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=task.module_path, backend_name=backend.alias, status=TaskResultStatus.READY
    ).exists()


def run_due_jobs(now: float, last_run: dict[str, float]) -> list[str]:
    """Run each scheduled job whose period has passed; return the names of those that ran."""
    ran = []
    for name, every, dotted_path in settings.SPEAKOUT_SCHEDULED_JOBS:
        if now - last_run.get(name, 0.0) < every:
            continue
        last_run[name] = now
        if not cache.add(f"speakout:job-lock:{name}", "1", timeout=max(1, every - 1)):
            continue  # another worker ran it this period
        try:
            import_string(dotted_path)()
            ran.append(name)
        except Exception:
            logger.exception("Scheduled job %s failed; it will run again next period", name)
    return ran


def _clock(stop: threading.Event, tick: float) -> None:
    last_run: dict[str, float] = {}
    while not stop.is_set():
        close_old_connections()  # a long-lived thread must not keep a broken or stale connection
        run_due_jobs(time.monotonic(), last_run)
        close_old_connections()
        stop.wait(tick)


def _quiet_db_worker():
    """django-tasks' worker, logging at WARNING: a line per task would drown real problems."""
    from django_tasks_db.management.commands.db_worker import Command

    class QuietWorker(Command):
        def configure_logging(self, verbosity: int) -> None:
            super().configure_logging(verbosity)
            for name in ("django_tasks", "django_tasks_db"):
                logging.getLogger(name).setLevel(logging.WARNING)

    return QuietWorker()


def run_worker(interval: int | None = None) -> int:
    from django.core.management import call_command

    stop = threading.Event()
    tick = float(interval or settings.SPEAKOUT_SCHEDULER_INTERVAL)
    clock = threading.Thread(target=_clock, args=(stop, min(tick, 5.0)), name="speakout-clock", daemon=True)
    clock.start()
    try:
        while not stop.is_set():
            try:
                call_command(_quiet_db_worker(), "--no-startup-delay", "--no-reload")
                break  # stopped by a signal
            except (OperationalError, InterfaceError):
                # The database is down or unreachable. Exiting would make `speakout run` stop
                # the whole site; waiting keeps the web answering 503s and resumes by itself.
                logger.warning(
                    "The database is unavailable; the worker tries again in %d s", DATABASE_RETRY_SECONDS, exc_info=True
                )
                close_old_connections()
                _wait_for_database(stop)
    finally:
        stop.set()
        clock.join(timeout=5)
    return 0


DATABASE_RETRY_SECONDS = 5


def _wait_for_database(stop: threading.Event) -> None:
    """Sleep before the next try; SIGINT or SIGTERM meanwhile stops the worker at once."""
    handlers = {number: signal.signal(number, lambda *_args: stop.set()) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop.wait(DATABASE_RETRY_SECONDS)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
