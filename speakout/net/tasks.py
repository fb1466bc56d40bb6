"""Enqueueing background tasks without flooding the queue (django-tasks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

# How long a task enqueued by enqueue_unless_waiting waits before it starts, gathering the work
# that comes meanwhile: the worker starts a task at once, so without a wait the next write would
# find none waiting, and a busy site would make a task (and its queue writes) per write.
GATHER_SECONDS = 1.0


def enqueue_unless_waiting(task: Any) -> None:
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


def _task_waiting(task: Any) -> bool:
    try:
        from django_tasks import TaskResultStatus
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return False
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return False
    return waiting_statement_result(DBTaskResult, task.module_path, backend.alias, TaskResultStatus.READY)


_WAITING: dict[tuple[str, str], str] = {}


def waiting_statement_result(model: Any, task_path: str, backend_name: str, status: Any) -> bool:
    """Whether a row of ``model`` holds this task path, backend and status: the ORM's
    ``filter(...).exists()`` as a plain statement, since building it cost more CPU than running it
    on every reply post (tests/discussion/test_lean_write.py compares both)."""
    from django.db import connections, router

    alias = router.db_for_read(model)
    connection = connections[alias]
    statement = _WAITING.get((alias, connection.vendor))
    if statement is None:
        quote = connection.ops.quote_name
        path, name, state = (
            quote(model._meta.get_field(field).column) for field in ("task_path", "backend_name", "status")
        )
        statement = _WAITING[(alias, connection.vendor)] = (
            f"SELECT 1 FROM {quote(model._meta.db_table)} WHERE {path} = %s AND {name} = %s AND {state} = %s LIMIT 1"  # nosec B608
        )
    with connection.cursor() as cursor:
        cursor.execute(statement, [task_path, backend_name, getattr(status, "value", status)])
        return cursor.fetchone() is not None
