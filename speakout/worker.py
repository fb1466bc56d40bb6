"""The background worker: django-tasks' database worker plus a small clock for scheduled jobs.

Each app lists its scheduled jobs in its ``jobs.schedule()`` as ``(name, every_seconds, dotted
path)``; ``SPEAKOUT_SCHEDULED_JOBS`` adds the project's own. No app imports this module. The
clock runs in a thread beside the task worker, so nothing needs cron. When several workers share
a cache (Redis in production), a cache lock lets only one of them run a given job per period;
with the local cache each worker runs its own clock, which is right for the single-worker
embedded default.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, close_old_connections
from django.utils.module_loading import import_string, module_has_submodule

logger = logging.getLogger("speakout.worker")


def scheduled_jobs() -> list[tuple[str, int, str]]:
    """Every installed app's scheduled jobs (the ``schedule()`` of its ``jobs`` module), then the
    project's own (``SPEAKOUT_SCHEDULED_JOBS``): (name, every N seconds, dotted path)."""
    jobs: list[tuple[str, int, str]] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "jobs"):
            schedule = getattr(import_module(f"{config.name}.jobs"), "schedule", None)
            if schedule is not None:
                jobs.extend(schedule())
    return jobs + list(getattr(settings, "SPEAKOUT_SCHEDULED_JOBS", []))


def run_due_jobs(now: float, last_run: dict[str, float], jobs: list[tuple[str, int, str]] | None = None) -> list[str]:
    """Run each scheduled job (``jobs``, else ``scheduled_jobs()``) whose period has passed;
    return the names of those that ran."""
    ran = []
    for name, every, dotted_path in scheduled_jobs() if jobs is None else jobs:
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


def lower_priority(niceness: int | None = None) -> int:
    """Add ``niceness`` (``SPEAKOUT_WORKER_NICE``; 0 or less: none) to this process's nice value,
    so that where the worker shares the cores with the web processes, the requests of a burst
    are answered first and its background work (notification mails, sending) runs in the CPU
    they leave, right after it. Returns the process's nice value."""
    niceness = settings.SPEAKOUT_WORKER_NICE if niceness is None else niceness
    if not hasattr(os, "nice"):
        return 0
    return os.nice(max(0, niceness))


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
