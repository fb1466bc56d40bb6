"""Scheduled jobs of the theme, run by the worker's clock (``schedule``)."""

from __future__ import annotations


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    # The default language chosen in the admin, back into the shared cache if it was lost there.
    return [("refill_default_language", 600, "speakout.theme.languages.refill_default_language")]
