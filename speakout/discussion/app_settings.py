"""Deployment-level settings of the discussion app, read when accessed so override_settings works.

Editors change the everyday rules (hold words, edit window, nesting...) in the admin, on the
``DiscussionSettings`` row; these are the ones an operator sets in the environment.
"""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    prefix = "SPEAKOUT_DISCUSSION_"

    def _setting(self, name: str, default):
        return getattr(settings, self.prefix + name, default)

    @property
    def POLICY_CHECKS(self) -> list[str]:
        """Dotted paths of the pipeline's checks, in order. Add your own here, or append them
        with ``SPEAKOUT_DISCUSSION_EXTRA_POLICY_CHECKS`` (how other apps plug in)."""
        return self._setting(
            "POLICY_CHECKS",
            [
                "speakout.discussion.policy.ClosedThreadCheck",
                "speakout.discussion.policy.TimeTrapCheck",
                "speakout.discussion.policy.HoneypotCheck",
                "speakout.discussion.policy.RateLimitCheck",
                "speakout.discussion.policy.DuplicateCheck",
                "speakout.discussion.policy.BannedCheck",
                "speakout.discussion.policy.BlockWordsCheck",
                "speakout.discussion.policy.HoldWordsCheck",
                "speakout.discussion.policy.LinkCountCheck",
                "speakout.discussion.policy.TrustCheck",
            ],
        ) + list(self._setting("EXTRA_POLICY_CHECKS", []))

    @property
    def GUEST_COOKIE_NAME(self) -> str:
        """The guest token's cookie. With Secure session cookies, "__Host-" too: a browser then
        refuses one a sibling subdomain set, which would file the reader's replies under a token
        its setter holds (and shows them the setter's held replies as their own)."""
        return self._setting(
            "GUEST_COOKIE_NAME", "__Host-speakout_guest" if settings.SESSION_COOKIE_SECURE else "speakout_guest"
        )

    @property
    def MIN_SECONDS_TO_SUBMIT(self) -> int:
        return self._setting("MIN_SECONDS_TO_SUBMIT", 3)

    @property
    def FORM_MAX_AGE(self) -> int:
        return self._setting("FORM_MAX_AGE", 24 * 3600)

    @property
    def SECONDS_BETWEEN_REPLIES(self) -> int:
        return self._setting("SECONDS_BETWEEN_REPLIES", 15)

    @property
    def BURST_LIMIT(self) -> tuple[int, int]:
        """At most N replies per M seconds from one client or one email address."""
        return self._setting("BURST_LIMIT", (5, 600))

    @property
    def REFUSAL_LIMIT(self) -> tuple[int, int]:
        """At most N refused submissions per M seconds from one client or account; past it,
        every submission is refused as too fast (speakout.discussion.refusals). 0: no limit."""
        return self._setting("REFUSAL_LIMIT", (10, 600))

    @property
    def REPORTS_PER_HOUR(self) -> int:
        """Reports of replies one client may send per hour (0: no limit)."""
        return self._setting("REPORTS_PER_HOUR", 20)

    @property
    def CLIENT_HASH_DAYS(self) -> int:
        """Days a client hash (keyed hash of a truncated IP address) is kept; the purge clears it."""
        return self._setting("CLIENT_HASH_DAYS", 30)

    @property
    def CLIENT_KEY_DAYS(self) -> int:
        """Days between two rotations of the client hash key."""
        return self._setting("CLIENT_KEY_DAYS", 7)

    @property
    def ADAPTER(self) -> str:
        """The front door every front end goes through (``speakout.discussion.adapter``)."""
        return self._setting("ADAPTER", "speakout.discussion.adapter.FrontDoorAdapter")

    @property
    def REPLY_RENDERER(self) -> str:
        return self._setting("REPLY_RENDERER", "speakout.discussion.html.ReplyRenderer")

    @property
    def LOGOUT_URL(self) -> str:
        """Where the "Log out" button of the reply form posts (the identity app sets it)."""
        return self._setting("LOGOUT_URL", "/admin/logout/")

    @property
    def IDENTITY_TEMPLATE(self) -> str:
        """The reply form's "who is commenting" part; the identity app sets one with login icons."""
        return self._setting("IDENTITY_TEMPLATE", "discussion/includes/identity.html")

    @property
    def MODERATION_EXCLUDE(self) -> list[str]:
        """Dotted paths of callables returning a filter expression for replies kept out of every
        moderation queue (the safety app's evidence holds)."""
        return list(self._setting("MODERATION_EXCLUDE", []))

    @property
    def RESERVED_NAMES(self) -> list[str]:
        return self._setting("RESERVED_NAMES", ["admin", "administrator", "moderator", "staff"])


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
