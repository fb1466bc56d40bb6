"""Scheduled jobs of the subscriptions (run hourly by the worker's clock; see speakout.worker).
The digest jobs send only to subscribers whose digest is due, so running them often is safe."""

from __future__ import annotations


def delete_expired_requests() -> None:
    from . import services

    services.delete_expired_requests()


def send_daily_digest() -> None:
    from . import services

    services.send_digests(services.Frequency.DAILY)


def send_weekly_digest() -> None:
    from . import services

    services.send_digests(services.Frequency.WEEKLY)


def send_due_reply_notifications() -> None:
    """The sweep behind the task: replies whose task was lost, or whose worker died."""
    from . import services

    services.send_due_reply_notifications()
