"""Django's message storage with its cookie under a name a sibling subdomain cannot plant.

The ``messages`` cookie is signed but bound to no reader: a page on x.example.org could set, for
example.org, a value the site signed for the planter (allauth's "Successfully signed in as NAME",
with a name the planter chose), and the reader would see it as the site's word. With Secure
session cookies (production) the name carries "__Host-", as the session, CSRF and guest cookies
do; a browser accepts such a cookie only from the host itself (Secure, ``Path=/``, no Domain).
Django has no setting for the name, hence these subclasses (``MESSAGE_STORAGE``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.messages.storage import cookie, fallback, session


def cookie_name() -> str:
    # Read on each use, so override_settings reaches it as it reaches the session cookie's.
    return "__Host-messages" if settings.SESSION_COOKIE_SECURE else "messages"


class CookieStorage(cookie.CookieStorage):
    @property
    def cookie_name(self) -> str:  # type: ignore[override]
        return cookie_name()


class FallbackStorage(fallback.FallbackStorage):
    """Django's default (a cookie, then the session for what does not fit) with our cookie."""

    storage_classes = (CookieStorage, session.SessionStorage)
