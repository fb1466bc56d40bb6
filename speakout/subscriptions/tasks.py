"""Background tasks of the subscriptions (django-tasks)."""

from __future__ import annotations

from django_tasks import task


@task()
def send_reply_notifications_task() -> int:
    """Queue the mails of every approved reply recorded and not announced yet (see
    services.notify_reply_approved); returns how many mails were queued."""
    from . import services

    return services.send_due_reply_notifications()
