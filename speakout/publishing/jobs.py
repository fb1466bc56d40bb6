"""Scheduled jobs of the publishing side, run by the worker's clock (see speakout.worker)."""

from django.core.management import call_command


def publish_scheduled() -> None:
    """Publish pages whose go-live time has come and unpublish those past their expiry."""
    call_command("publish_scheduled", verbosity=0)
