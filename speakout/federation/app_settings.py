"""Settings of the federation, read when accessed so override_settings works.

What an administrator changes (on/off, handle, approving followers, blocks) lives in
``FederationSettings`` (Settings → Federation in the admin); these are the operator's limits.
"""

from __future__ import annotations

from speakout.conf import Setting


class AppSettings:
    prefix = "SPEAKOUT_FEDERATION_"

    #: The largest activity the inbox reads; a larger one is refused with 413.
    MAX_BODY_BYTES = Setting(256 * 1024)
    MAX_JSON_DEPTH = Setting(32)
    #: How far a signed request's Date (or created) may be from now.
    SIGNATURE_WINDOW_SECONDS = Setting(300)
    #: How long a fetched actor and its key are trusted before they are fetched again.
    KEY_CACHE_SECONDS = Setting(24 * 3600)
    #: A keyId is fetched at most once in this many seconds to verify a signature (a forged
    #: signature must not make the site fetch the key again at every request).
    KEY_REFETCH_SECONDS = Setting(300)
    #: Key fetches to verify signatures, per host and hour (invented keyIds on one host).
    KEY_FETCHES_PER_HOST_PER_HOUR = Setting(120)
    #: Refused inbox requests logged one by one per sender and hour; the rest of the hour is
    #: counted in one row (0: log every one).
    REFUSED_LOGGED_PER_HOST_PER_HOUR = Setting(60)
    DELIVERY_FIRST_RETRY_SECONDS = Setting(60)
    DELIVERY_MAX_RETRY_SECONDS = Setting(6 * 3600)
    #: Attempts before a delivery is marked failed.
    DELIVERY_ATTEMPTS = Setting(12)
    #: A delivery "sending" longer than this was claimed by a worker that died: retry it.
    CLAIM_TIMEOUT_SECONDS = Setting(300)
    REPLIES_PER_DOMAIN_PER_HOUR = Setting(60)
    #: How long the log of fetches, deliveries and inbox decisions is kept.
    LOG_RETENTION_DAYS = Setting(30)
    #: How long a deleted remote Note is remembered, so that its Create is not taken again: longer
    #: than servers retry a delivery (Mastodon, about a week).
    TOMBSTONE_RETENTION_DAYS = Setting(30)


app_settings = AppSettings()
