"""Scheduled jobs of the publishing side, run by the worker's clock (``schedule``)."""

from django.conf import settings
from django.core.management import call_command


def publish_scheduled() -> None:
    call_command("publish_scheduled", verbosity=0)


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    return [
        ("publish_scheduled", settings.SPEAKOUT_SCHEDULER_INTERVAL, f"{__name__}.publish_scheduled"),
        # Moderators' daily summary, when the discussion rules ask for one (checked hourly).
        ("moderator_daily_summary", 3600, "speakout.publishing.alerts.send_daily_summaries"),
    ]
