"""Deployment-level settings of the embed app, read when accessed so override_settings works."""

from __future__ import annotations

from speakout.conf import Setting


class AppSettings:
    prefix = "SPEAKOUT_EMBED_"

    #: Origins allowed besides the admin's list (for deployments configured by environment).
    ORIGINS: Setting[list[str]] = Setting([], list)
    #: Where Isso's HTTP API is served ("" turns it off). Read once, when the URLs load.
    ISSO_PREFIX = Setting("isso", lambda prefix: prefix.strip("/"))
    #: Seconds a sign-in token handed to a widget stays valid.
    SIGNIN_MAX_AGE = Setting(3600)
    #: Lifetime of the edit cookie the Isso endpoints set (Isso's ``max-age``).
    ISSO_EDIT_SECONDS = Setting(15 * 60)
    CORS_MAX_AGE = Setting(3600)


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
