"""Scheduled jobs of the subscriptions (run by the worker's clock, ``schedule``).
The digest jobs send only to subscribers whose digest is due, so running them often is safe."""

from __future__ import annotations

from django.conf import settings

from . import services


def delete_expired_requests() -> None:
    services.delete_expired_requests()


def send_daily_digest() -> None:
    services.send_digests(services.Frequency.DAILY)


def send_weekly_digest() -> None:
    services.send_digests(services.Frequency.WEEKLY)


def send_due_reply_notifications() -> None:
    """The sweep behind the task: replies whose task was lost, or whose worker died."""
    services.send_due_reply_notifications()


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    return [
        # Reply notifications whose task was lost, or whose worker died before queueing their mails.
        (
            "send_due_reply_notifications",
            settings.SPEAKOUT_OUTBOX_SWEEP_SECONDS,
            f"{__name__}.send_due_reply_notifications",
        ),
        # Unconfirmed subscription requests expire; digests go out when due (checked hourly).
        ("subscriptions_expire_requests", 3600, f"{__name__}.delete_expired_requests"),
        ("send_daily_digest", 3600, f"{__name__}.send_daily_digest"),
        ("send_weekly_digest", 3600, f"{__name__}.send_weekly_digest"),
    ]
