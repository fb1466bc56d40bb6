"""Settings of the outbox, read when accessed so override_settings works.

The send limit, the bounce address and mailbox and the DKIM key come from the environment
(speakout/settings.py, docs/configuration.md); the retry schedule and the soft-bounce limit are
Django settings with sensible defaults, for tests and unusual deployments.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from speakout.conf import Setting


class AppSettings:
    prefix = "SPEAKOUT_OUTBOX_"

    #: Mails sent per minute, across all workers sharing the cache. 0 or less: no limit.
    RATE_PER_MINUTE = Setting(60, name="SPEAKOUT_EMAIL_RATE_PER_MINUTE")
    FIRST_RETRY_SECONDS = Setting(60)
    MAX_RETRY_SECONDS = Setting(2 * 3600)
    #: A mail is retried until at least this long after it was queued, then marked failed.
    RETRY_FOR_SECONDS = Setting(24 * 3600)
    #: A mail "sending" for longer than this was claimed by a worker that died: retry it.
    CLAIM_TIMEOUT_SECONDS = Setting(600)
    SWEEP_BATCH = Setting(200)
    #: Where bounces go (``SPEAKOUT_BOUNCE_ADDRESS``); each mail's envelope sender is this
    #: address with a signed tag (VERP). Empty: the From address, with no tag.
    BOUNCE_ADDRESS = Setting("", name="SPEAKOUT_BOUNCE_ADDRESS")
    BOUNCE_IMAP_URL = Setting("", name="SPEAKOUT_BOUNCE_IMAP_URL")
    #: Soft bounces (of different mails) that suppress an address.
    SOFT_BOUNCE_LIMIT = Setting(3, name="SPEAKOUT_BOUNCE_SOFT_LIMIT")
    #: Soft bounces older than this no longer count (a full mailbox gets emptied).
    SOFT_BOUNCE_DAYS = Setting(30, name="SPEAKOUT_BOUNCE_SOFT_DAYS")
    DKIM_SELECTOR = Setting("speakout", name="SPEAKOUT_DKIM_SELECTOR")
    #: The signing domain; empty: the domain of SPEAKOUT_EMAIL_FROM.
    DKIM_DOMAIN = Setting("", name="SPEAKOUT_DKIM_DOMAIN")
    #: The private key as PEM text (``SPEAKOUT_DKIM_PRIVATE_KEY``); empty: the key file.
    DKIM_PRIVATE_KEY = Setting("", name="SPEAKOUT_DKIM_PRIVATE_KEY")

    @property
    def DKIM_KEY_FILE(self) -> Path:
        """``<data folder>/dkim/<selector>.pem`` unless SPEAKOUT_DKIM_KEY_FILE names another."""
        configured = getattr(settings, "SPEAKOUT_DKIM_KEY_FILE", "")
        if configured:
            return Path(configured)
        return Path(settings.DATA_DIR) / "dkim" / f"{self.DKIM_SELECTOR}.pem"


app_settings = AppSettings()
