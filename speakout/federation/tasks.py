"""Background tasks of the federation (django-tasks)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_task() -> dict[str, int]:
    from . import delivery

    return delivery.deliver_due()
