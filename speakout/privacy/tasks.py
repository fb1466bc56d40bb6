"""Background tasks of the privacy app (django-tasks). They take ids, never addresses: a task's
arguments are stored in the task table."""

from __future__ import annotations

from django_tasks import task


@task()
def send_manage_link_task(request_id: int) -> bool:
    """Mail the link if the address is known; otherwise forget the request. Returns whether a
    mail was queued."""
    from . import services

    return services.send_manage_link(request_id)
