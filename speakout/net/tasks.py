"""Enqueueing background tasks without flooding the queue (django-tasks)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

# How long a task enqueued by enqueue_unless_waiting waits before it starts, gathering the work
# that comes meanwhile: the worker starts a task at once, so without a wait the next write would
# find none waiting, and a busy site would make a task (and its queue writes) per write.
GATHER_SECONDS = 1.0
# A task known to wait is taken as waiting until this long before its start time, for clocks of
# the web and worker hosts that differ by less.
CLOCK_MARGIN = timedelta(seconds=0.2)
# The start time of a task known to wait, per database, backend and task path, in this process.
_WAITS_UNTIL: dict[tuple[str, str, str], datetime] = {}


def enqueue_unless_waiting(task: Any) -> None:
    """Enqueue ``task`` (one taking no arguments) unless one already waits in the queue.

    Meant to run after a commit (``transaction.on_commit``): a task still "ready" then is started
    after the commit, so it finds what was just stored. The task starts GATHER_SECONDS later, so a
    burst of writes makes a task per second instead of one per write. Until shortly before a
    waiting task's start time, which no worker starts it before, the queue is not asked again.
    Queues other than django-tasks' database backend, which cannot be asked what waits, get a
    task every time (started at once where they cannot defer one)."""
    known = _known_waiting(task)  # None: not the database queue
    if known is not None:
        if known[1] is not None and timezone.now() < known[1] - CLOCK_MARGIN:
            return
        starts = _task_waiting(task, known[0])
        if starts is not None:
            _remember(known[0], starts)
            return
    if GATHER_SECONDS and task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + timedelta(seconds=GATHER_SECONDS))
    task.enqueue()
    if known is not None and task.run_after is not None:
        _remember(known[0], task.run_after)


def _known_waiting(task: Any) -> tuple[tuple[str, str, str], datetime | None] | None:
    """For django-tasks' database queue: the key of ``task`` in ``_WAITS_UNTIL`` and the start
    time remembered under it; None for any other queue."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return None
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return None
    from django.db import router

    key = (router.db_for_write(DBTaskResult), backend.alias, task.module_path)
    return key, _WAITS_UNTIL.get(key)


def _remember(key: tuple[str, str, str], starts: datetime) -> None:
    """Remember a waiting task's start time, only when what was read or written is committed
    (a transaction rolled back, a test's among them, may take the task away again)."""
    from django.db import connections
    from django_tasks_db.models import get_date_max

    if starts < get_date_max() and not connections[key[0]].in_atomic_block:
        _WAITS_UNTIL[key] = starts
    else:
        _WAITS_UNTIL.pop(key, None)


def _task_waiting(task: Any, key: tuple[str, str, str]) -> datetime | None:
    """The latest start time of the tasks of this path waiting in the database queue, or None."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return waiting_statement_result(DBTaskResult, task.module_path, key[1], TaskResultStatus.READY)


_WAITING: dict[tuple[str, str], str] = {}


def waiting_statement_result(model: Any, task_path: str, backend_name: str, status: Any) -> datetime | None:
    """The latest ``run_after`` of the rows of ``model`` holding this task path, backend and
    status, or None: the ORM's ``filter(...).order_by("-run_after").values_list("run_after",
    flat=True).first()`` as a plain statement, since building it cost more CPU than running it
    on every reply post (tests/discussion/test_lean_write.py compares both)."""
    from django.db import connections, router

    alias = router.db_for_read(model)
    connection = connections[alias]
    statement = _WAITING.get((alias, connection.vendor))
    if statement is None:
        quote = connection.ops.quote_name
        path, name, state, after = (
            quote(model._meta.get_field(field).column) for field in ("task_path", "backend_name", "status", "run_after")
        )
        statement = _WAITING[(alias, connection.vendor)] = (
            f"SELECT {after} FROM {quote(model._meta.db_table)} WHERE {path} = %s AND {name} = %s AND {state} = %s "  # nosec B608
            f"ORDER BY {after} DESC LIMIT 1"
        )
    with connection.cursor() as cursor:
        cursor.execute(statement, [task_path, backend_name, getattr(status, "value", status)])
        row = cursor.fetchone()
    if row is None:
        return None
    # The value as the ORM reads it (a string on SQLite), through the converters its compiler applies.
    column = model._meta.get_field("run_after").get_col(model._meta.db_table)
    value = row[0]
    for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
        value = converter(value, column, connection)
    return value
