"""Settings of the outbox, read when accessed so override_settings works.

The send limit, the bounce address and mailbox and the DKIM key come from the environment
(speakout/settings.py, docs/configuration.md); the retry schedule and the soft-bounce limit are
Django settings with sensible defaults, for tests and unusual deployments.
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

    @property
    def BOUNCE_ADDRESS(self) -> str:
        """Where bounces go (``SPEAKOUT_BOUNCE_ADDRESS``); each mail's envelope sender is this
        address with a signed tag (VERP). Empty: the From address, with no tag."""
        return self._setting("SPEAKOUT_BOUNCE_ADDRESS", "")

    @property
    def BOUNCE_IMAP_URL(self) -> str:
        return self._setting("SPEAKOUT_BOUNCE_IMAP_URL", "")

    @property
    def SOFT_BOUNCE_LIMIT(self) -> int:
        """Soft bounces (of different mails) that suppress an address."""
        return self._setting("SPEAKOUT_BOUNCE_SOFT_LIMIT", 3)

    @property
    def SOFT_BOUNCE_DAYS(self) -> int:
        """Soft bounces older than this no longer count (a full mailbox gets emptied)."""
        return self._setting("SPEAKOUT_BOUNCE_SOFT_DAYS", 30)

    @property
    def DKIM_SELECTOR(self) -> str:
        return self._setting("SPEAKOUT_DKIM_SELECTOR", "speakout")

    @property
    def DKIM_DOMAIN(self) -> str:
        """The signing domain; empty: the domain of SPEAKOUT_EMAIL_FROM."""
        return self._setting("SPEAKOUT_DKIM_DOMAIN", "")

    @property
    def DKIM_PRIVATE_KEY(self) -> str:
        """The private key as PEM text (``SPEAKOUT_DKIM_PRIVATE_KEY``); empty: the key file."""
        return self._setting("SPEAKOUT_DKIM_PRIVATE_KEY", "")

    @property
    def DKIM_KEY_FILE(self):
        """``<data folder>/dkim/<selector>.pem`` unless SPEAKOUT_DKIM_KEY_FILE names another."""
        from pathlib import Path

        configured = self._setting("SPEAKOUT_DKIM_KEY_FILE", "")
        if configured:
            return Path(configured)
        return Path(settings.DATA_DIR) / "dkim" / f"{self.DKIM_SELECTOR}.pem"


app_settings = AppSettings()
