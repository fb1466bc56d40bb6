"""Deployment-level settings of the safety app (editors set the rest in the admin)."""

from __future__ import annotations

from speakout.conf import Setting


class AppSettings:
    prefix = "SPEAKOUT_SAFETY_"

    #: Regions whose local phone formats are recognised (international ones always are).
    PHONE_REGIONS: Setting[tuple[str, ...]] = Setting(("ES", "GB", "US"), tuple)
    #: Update the spam model as soon as a moderator approves or marks spam.
    LEARN_ON_DECISION = Setting(True)


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
