"""Settings of the privacy app, read when accessed so override_settings works. Each comes from an
environment variable (see settings.py and docs/configuration.md); 0 days turns a purge off."""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    prefix = "SPEAKOUT_PRIVACY_"

    def _setting(self, name: str, default):
        return getattr(settings, self.prefix + name, default)

    @property
    def HELD_REPLY_DAYS(self) -> int:
        """Replies held (pending or spam) and never moderated are deleted after this many days."""
        return self._setting("HELD_REPLY_DAYS", 90)

    @property
    def SENT_MAIL_DAYS(self) -> int:
        """Sent (and finally failed) mail is deleted from the outbox after this many days."""
        return self._setting("SENT_MAIL_DAYS", 30)

    @property
    def TASK_RESULT_DAYS(self) -> int:
        """Finished background tasks (their arguments, results and any traceback) are deleted
        from the task queue's table after this many days."""
        return self._setting("TASK_RESULT_DAYS", 7)

    @property
    def FORGET_AFTER_DAYS(self) -> int:
        """A forgotten commenter's address is deleted this many days after they asked (their
        replies are detached at once; the short delay lets moderators finish dealing with abuse)."""
        return self._setting("FORGET_AFTER_DAYS", 7)

    @property
    def UNSUBSCRIBED_DAYS(self) -> int:
        """Ended subscriptions (with their address) are deleted after this many days."""
        return self._setting("UNSUBSCRIBED_DAYS", 90)

    @property
    def RELEASED_EVIDENCE_DAYS(self) -> int:
        """The sealed copy of a reply released from an evidence hold is dropped after this many
        days (its hashes stay). While held, a reply is exempt from every purge."""
        return self._setting("RELEASED_EVIDENCE_DAYS", 30)

    @property
    def LINK_MAX_AGE(self) -> int:
        """Seconds a "manage my replies" link works."""
        return self._setting("LINK_MAX_AGE", 24 * 3600)

    @property
    def REQUEST_LIMIT(self) -> tuple[int, int]:
        """At most N link requests per M seconds from one client, and from one address."""
        return self._setting("REQUEST_LIMIT", (5, 3600))


app_settings = AppSettings()
