"""Background tasks of the outbox (django-tasks). They take ids, never rows."""

from __future__ import annotations

from django_tasks import task


@task()
def send_outbox_task() -> dict[str, int]:
    """Send every due mail, batch after batch, over one connection (see services.schedule_send)."""
    from . import services

    return services.send_due_mail(until_empty=True)
