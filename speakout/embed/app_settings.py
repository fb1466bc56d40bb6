"""Deployment-level settings of the embed app, read when accessed so override_settings works."""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    prefix = "SPEAKOUT_EMBED_"

    def _setting(self, name: str, default):
        return getattr(settings, self.prefix + name, default)

    @property
    def ORIGINS(self) -> list[str]:
        """Origins allowed besides the admin's list (for deployments configured by environment)."""
        return self._setting("ORIGINS", [])

    @property
    def ISSO_PREFIX(self) -> str:
        """Where Isso's HTTP API is served ("" turns it off). Read once, when the URLs load."""
        return self._setting("ISSO_PREFIX", "isso").strip("/")

    @property
    def SIGNIN_MAX_AGE(self) -> int:
        """Seconds a sign-in token handed to a widget stays valid."""
        return self._setting("SIGNIN_MAX_AGE", 3600)

    @property
    def ISSO_EDIT_SECONDS(self) -> int:
        """Lifetime of the edit cookie the Isso endpoints set (Isso's ``max-age``)."""
        return self._setting("ISSO_EDIT_SECONDS", 15 * 60)

    @property
    def CORS_MAX_AGE(self) -> int:
        return self._setting("CORS_MAX_AGE", 3600)


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
