"""Background tasks of the outbox (django-tasks). They take ids, never rows."""

from __future__ import annotations

from django_tasks import task


@task()
def send_mail_task(mail_id: int) -> str:
    """Send one queued mail; a no-op if another worker has it or it is not due."""
    from . import services

    return services.send_pending(mail_id)
