"""Page cache settings (environment variables are read in speakout/settings.py).

They are read on every request a cache could answer, so each is looked up once and kept as a
plain attribute of this module (read without calling ``__getattr__``) until a setting changes
(``override_settings`` in tests sends ``setting_changed``).
"""

from django.conf import settings
from django.core.signals import setting_changed


def _defaults() -> dict[str, object]:
    return {
        # Off: every request renders (benchmarks of the uncached path, debugging).
        "ENABLED": True,
        # Seconds a stored page may stay in the cache unused; versions, not age, decide freshness.
        "TIMEOUT": 24 * 3600,
        # Cookies that do not make a reader's page personal. Any other cookie bypasses the cache.
        "NEUTRAL_COOKIES": (settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME),
        # Paths never looked up or stored, whatever their views say. Apps add theirs in the
        # project's settings (the page cache imports no other app).
        "EXCLUDED_PREFIXES": ("/admin/", "/static/", "/media/", "/i18n/"),
        # Where the version counters live (no Redis, or SQLite): a folder every web process, the
        # worker and the commands share. Empty: in the default cache (PostgreSQL and Redis).
        "VERSIONS_DIR": "",
        # Header values that, in a request, make the page personal (WSGI names: HTTP_X_...).
        "PERSONAL_HEADERS": ("HTTP_AUTHORIZATION",),
    }


def __getattr__(name):
    defaults = _defaults()
    if name not in defaults:
        raise AttributeError(name)
    value = globals()[name] = getattr(settings, f"SPEAKOUT_PAGE_CACHE_{name}", defaults[name])
    return value


def vary_allowed() -> set[str]:
    """Request headers a stored answer may vary on: the negotiated ones, and the personal headers
    (an answer that varies on one was rendered without it)."""
    headers = globals().get("PERSONAL_HEADERS") or __getattr__("PERSONAL_HEADERS")
    personal = {name[5:].replace("_", "-").lower() for name in headers if name.startswith("HTTP_")}
    return {"accept-encoding", "accept-language", "cookie", *personal}


def _forget(**kwargs) -> None:
    for name in _defaults():
        globals().pop(name, None)


setting_changed.connect(_forget)
