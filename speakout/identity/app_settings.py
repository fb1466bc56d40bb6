"""Deployment-level settings of the identity app, read when accessed so override_settings works."""

from __future__ import annotations

from speakout.conf import Setting


class AppSettings:
    prefix = "SPEAKOUT_"

    #: Anyone who can reach the Wagtail admin must have a second factor before it serves them.
    STAFF_REQUIRE_MFA = Setting(False, bool)
    ACCOUNT_SIGNUP_OPEN = Setting(True, bool)
    #: Readers may open a passwordless account under a pseudonym, proving their email once.
    PSEUDONYMS = Setting(True, bool)
    ADMIN_PREFIX = Setting("/admin/")
    #: Extra (label, URL name) links on the account page; other apps add theirs here.
    ACCOUNT_LINKS: Setting[list[tuple[str, str]]] = Setting([], list)


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
