"""Deployment-level settings of the contact form, read when accessed so override_settings works."""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    prefix = "SPEAKOUT_CONTACT_"

    def _setting(self, name: str, default):
        return getattr(settings, self.prefix + name, default)

    @property
    def SECONDS_BETWEEN_MESSAGES(self) -> int:
        """Minimum seconds between two messages from one client or one email address (0: no limit)."""
        return self._setting("SECONDS_BETWEEN_MESSAGES", 30)


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
