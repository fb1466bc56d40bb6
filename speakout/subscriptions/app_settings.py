"""Settings of the subscriptions app, read when accessed so override_settings works."""

from __future__ import annotations

from speakout.conf import Setting


class AppSettings:
    prefix = "SPEAKOUT_SUBSCRIPTIONS_"

    #: Seconds a confirmation link stays valid; an unconfirmed request is deleted after it.
    CONFIRM_MAX_AGE = Setting(7 * 24 * 3600)
    #: Follow requests one client may send, per this many seconds.
    FOLLOW_LIMIT = Setting((10, 3600))
    #: Confirmation mails one address may get, per this many seconds, from all clients.
    CONFIRMATIONS_PER_ADDRESS = Setting((5, 86400))
    #: Minutes between two mails about answers in one thread to one address; the answers
    #: approved meanwhile wait and go out together in one digest. 0: a mail for each.
    ANSWER_MINUTES = Setting(15)
    #: The public address that links in mails start with.
    BASE_URL = Setting("http://127.0.0.1:8000", lambda url: url.rstrip("/"), name="BASE_URL")


app_settings = AppSettings()
