"""Settings of the federation, read when accessed so override_settings works.

What an administrator changes (on/off, handle, approving followers, blocks) lives in
``FederationSettings`` (Settings → Federation in the admin); these are the operator's limits.
"""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    prefix = "SPEAKOUT_FEDERATION_"

    def _setting(self, name: str, default):
        return getattr(settings, self.prefix + name, default)

    @property
    def MAX_BODY_BYTES(self) -> int:
        """The largest activity the inbox reads; a larger one is refused with 413."""
        return self._setting("MAX_BODY_BYTES", 256 * 1024)

    @property
    def MAX_JSON_DEPTH(self) -> int:
        return self._setting("MAX_JSON_DEPTH", 32)

    @property
    def SIGNATURE_WINDOW_SECONDS(self) -> int:
        """How far a signed request's Date (or created) may be from now."""
        return self._setting("SIGNATURE_WINDOW_SECONDS", 300)

    @property
    def KEY_CACHE_SECONDS(self) -> int:
        """How long a fetched actor and its key are trusted before they are fetched again."""
        return self._setting("KEY_CACHE_SECONDS", 24 * 3600)

    @property
    def KEY_REFETCH_SECONDS(self) -> int:
        """A keyId is fetched at most once in this many seconds to verify a signature (a forged
        signature must not make the site fetch the key again at every request)."""
        return self._setting("KEY_REFETCH_SECONDS", 300)

    @property
    def KEY_FETCHES_PER_HOST_PER_HOUR(self) -> int:
        """Key fetches to verify signatures, per host and hour (invented keyIds on one host)."""
        return self._setting("KEY_FETCHES_PER_HOST_PER_HOUR", 120)

    @property
    def REFUSED_LOGGED_PER_HOST_PER_HOUR(self) -> int:
        """Refused inbox requests logged one by one per sender and hour; the rest of the hour is
        counted in one row (0: log every one)."""
        return self._setting("REFUSED_LOGGED_PER_HOST_PER_HOUR", 60)

    @property
    def DELIVERY_FIRST_RETRY_SECONDS(self) -> int:
        return self._setting("DELIVERY_FIRST_RETRY_SECONDS", 60)

    @property
    def DELIVERY_MAX_RETRY_SECONDS(self) -> int:
        return self._setting("DELIVERY_MAX_RETRY_SECONDS", 6 * 3600)

    @property
    def DELIVERY_ATTEMPTS(self) -> int:
        """Attempts before a delivery is marked failed."""
        return self._setting("DELIVERY_ATTEMPTS", 12)

    @property
    def CLAIM_TIMEOUT_SECONDS(self) -> int:
        """A delivery "sending" longer than this was claimed by a worker that died: retry it."""
        return self._setting("CLAIM_TIMEOUT_SECONDS", 300)

    @property
    def REPLIES_PER_DOMAIN_PER_HOUR(self) -> int:
        return self._setting("REPLIES_PER_DOMAIN_PER_HOUR", 60)

    @property
    def LOG_RETENTION_DAYS(self) -> int:
        """How long the log of fetches, deliveries and inbox decisions is kept."""
        return self._setting("LOG_RETENTION_DAYS", 30)


app_settings = AppSettings()
