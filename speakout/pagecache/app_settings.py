"""Page cache settings (environment variables are read in speakout/settings.py)."""

from django.conf import settings


def __getattr__(name):
    defaults = {
        # Off: every request renders (benchmarks of the uncached path, debugging).
        "ENABLED": True,
        # Seconds a stored page may stay in the cache unused; versions, not age, decide freshness.
        "TIMEOUT": 24 * 3600,
        # Cookies that do not make a reader's page personal. Any other cookie bypasses the cache.
        "NEUTRAL_COOKIES": (settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME),
        # Paths never looked up or stored, whatever their views say.
        "EXCLUDED_PREFIXES": ("/admin/", "/static/", "/media/", "/documents/", "/i18n/", "/discussion/"),
        # Header values that, in a request, make the page personal.
        "PERSONAL_HEADERS": ("HTTP_AUTHORIZATION", "HTTP_X_SPEAKOUT_GUEST"),
    }
    if name not in defaults:
        raise AttributeError(name)
    return getattr(settings, f"SPEAKOUT_PAGE_CACHE_{name}", defaults[name])
