"""Settings of the outbox, read when accessed so override_settings works.

Only the send limit comes from the environment (``SPEAKOUT_EMAIL_RATE_PER_MINUTE``); the retry
schedule is a Django setting with a sensible default, for tests and unusual deployments.
"""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    def _setting(self, name: str, default):
        return getattr(settings, name, default)

    @property
    def RATE_PER_MINUTE(self) -> int:
        """Mails sent per minute, across all workers sharing the cache. 0 or less: no limit."""
        return self._setting("SPEAKOUT_EMAIL_RATE_PER_MINUTE", 60)

    @property
    def FIRST_RETRY_SECONDS(self) -> int:
        return self._setting("SPEAKOUT_OUTBOX_FIRST_RETRY_SECONDS", 60)

    @property
    def MAX_RETRY_SECONDS(self) -> int:
        return self._setting("SPEAKOUT_OUTBOX_MAX_RETRY_SECONDS", 2 * 3600)

    @property
    def RETRY_FOR_SECONDS(self) -> int:
        """A mail is retried until at least this long after it was queued, then marked failed."""
        return self._setting("SPEAKOUT_OUTBOX_RETRY_FOR_SECONDS", 24 * 3600)

    @property
    def CLAIM_TIMEOUT_SECONDS(self) -> int:
        """A mail "sending" for longer than this was claimed by a worker that died: retry it."""
        return self._setting("SPEAKOUT_OUTBOX_CLAIM_TIMEOUT_SECONDS", 600)

    @property
    def SWEEP_BATCH(self) -> int:
        return self._setting("SPEAKOUT_OUTBOX_SWEEP_BATCH", 200)


app_settings = AppSettings()
