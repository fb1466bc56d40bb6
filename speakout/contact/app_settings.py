"""Deployment-level settings of the contact form, read when accessed so override_settings works."""

from __future__ import annotations

from speakout.conf import Setting


class AppSettings:
    prefix = "SPEAKOUT_CONTACT_"

    #: Minimum seconds between two messages from one client or one email address (0: no limit).
    SECONDS_BETWEEN_MESSAGES = Setting(30)


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
