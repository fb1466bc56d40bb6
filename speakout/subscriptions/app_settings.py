"""Settings of the subscriptions app, read when accessed so override_settings works."""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    def _setting(self, name: str, default):
        return getattr(settings, name, default)

    @property
    def CONFIRM_MAX_AGE(self) -> int:
        """Seconds a confirmation link stays valid; an unconfirmed request is deleted after it."""
        return self._setting("SPEAKOUT_SUBSCRIPTIONS_CONFIRM_MAX_AGE", 7 * 24 * 3600)

    @property
    def FOLLOW_LIMIT(self) -> tuple[int, int]:
        """Follow requests one client may send, per this many seconds."""
        return self._setting("SPEAKOUT_SUBSCRIPTIONS_FOLLOW_LIMIT", (10, 3600))

    @property
    def CONFIRMATIONS_PER_ADDRESS(self) -> tuple[int, int]:
        """Confirmation mails one address may get, per this many seconds, from all clients."""
        return self._setting("SPEAKOUT_SUBSCRIPTIONS_CONFIRMATIONS_PER_ADDRESS", (5, 86400))

    @property
    def ANSWER_MINUTES(self) -> int:
        """Minutes between two mails about answers in one thread to one address; the answers
        approved meanwhile wait and go out together in one digest. 0: a mail for each."""
        return self._setting("SPEAKOUT_SUBSCRIPTIONS_ANSWER_MINUTES", 15)

    @property
    def BASE_URL(self) -> str:
        """The public address that links in mails start with."""
        return self._setting("BASE_URL", "http://127.0.0.1:8000").rstrip("/")


app_settings = AppSettings()
