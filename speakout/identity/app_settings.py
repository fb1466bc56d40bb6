"""Deployment-level settings of the identity app, read when accessed so override_settings works."""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    prefix = "SPEAKOUT_"

    def _setting(self, name: str, default):
        return getattr(settings, self.prefix + name, default)

    @property
    def STAFF_REQUIRE_MFA(self) -> bool:
        """Anyone who can reach the Wagtail admin must have a second factor before it serves them."""
        return bool(self._setting("STAFF_REQUIRE_MFA", False))

    @property
    def ACCOUNT_SIGNUP_OPEN(self) -> bool:
        return bool(self._setting("ACCOUNT_SIGNUP_OPEN", True))

    @property
    def PSEUDONYMS(self) -> bool:
        """Readers may open a passwordless account under a pseudonym, proving their email once."""
        return bool(self._setting("PSEUDONYMS", True))

    @property
    def ADMIN_PREFIX(self) -> str:
        return self._setting("ADMIN_PREFIX", "/admin/")

    @property
    def ACCOUNT_LINKS(self) -> list[tuple[str, str]]:
        """Extra (label, URL name) links on the account page; other apps add theirs here."""
        return list(self._setting("ACCOUNT_LINKS", []))


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
