"""Settings of the privacy app, read when accessed so override_settings works. Each comes from an
environment variable (see settings.py and docs/configuration.md); 0 days turns a purge off."""

from __future__ import annotations

from speakout.conf import Setting


class AppSettings:
    prefix = "SPEAKOUT_PRIVACY_"

    #: Replies held (pending or spam) and never moderated are deleted after this many days.
    HELD_REPLY_DAYS = Setting(90)
    #: Sent (and finally failed) mail is deleted from the outbox after this many days.
    SENT_MAIL_DAYS = Setting(30)
    #: Finished background tasks (their arguments, results and any traceback) are deleted
    #: from the task queue's table after this many days.
    TASK_RESULT_DAYS = Setting(7)
    #: A forgotten commenter's address is deleted this many days after they asked (their
    #: replies are detached at once; the short delay lets moderators finish dealing with abuse).
    FORGET_AFTER_DAYS = Setting(7)
    #: Ended subscriptions (with their address) are deleted after this many days.
    UNSUBSCRIBED_DAYS = Setting(90)
    #: The sealed copy of a reply released from an evidence hold is dropped after this many
    #: days (its hashes stay). While held, a reply is exempt from every purge.
    RELEASED_EVIDENCE_DAYS = Setting(30)
    #: Seconds a "manage my replies" link works.
    LINK_MAX_AGE = Setting(24 * 3600)
    #: At most N link requests per M seconds from one client, and from one address.
    REQUEST_LIMIT = Setting((5, 3600))


app_settings = AppSettings()
