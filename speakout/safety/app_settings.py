"""Deployment-level settings of the safety app (editors set the rest in the admin)."""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    prefix = "SPEAKOUT_SAFETY_"

    def _setting(self, name: str, default):
        return getattr(settings, self.prefix + name, default)

    @property
    def PHONE_REGIONS(self) -> tuple[str, ...]:
        """Regions whose local phone formats are recognised (international ones always are)."""
        return tuple(self._setting("PHONE_REGIONS", ("ES", "GB", "US")))

    @property
    def LEARN_ON_DECISION(self) -> bool:
        """Update the spam model as soon as a moderator approves or marks spam."""
        return self._setting("LEARN_ON_DECISION", True)


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
