"""Background tasks the privacy tests run through django-tasks' database queue and its worker,
as `speakout worker` does: a failure whose message quotes a person's address, and a task that is
given an address and returns it."""

from __future__ import annotations

import smtplib

from django_tasks import task

from speakout.discussion.models import Commenter

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@task()
def refused_by_the_mail_server(commenter_id: int) -> None:
    """Fails as a mail server refusing the commenter's address does: its reply quotes the address
    (upper-cased, as some servers write it), and so does the traceback the worker stores."""
    address = Commenter.objects.get(pk=commenter_id).email.upper()
    reply = f"5.1.1 <{address}>: Recipient address rejected: mailbox unavailable"
    raise smtplib.SMTPRecipientsRefused({address: (550, reply.encode())})


@task()
def look_up_address(email: str) -> dict:
    """Called with an address, returns it: the worker keeps both."""
    return {"looked_up": email.lower()}


def run_the_worker(monkeypatch, worker_id: str = "privacy-test"):
    """Run every waiting task the way `speakout worker` does, with django-tasks' database worker,
    until the queue is empty. Its per-task check of the connection would close the test's own
    (open in the test's transaction), as the test client's request signals would."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    db_worker.Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()
