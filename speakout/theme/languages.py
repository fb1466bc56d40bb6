"""Which language a reader gets, and which one mail goes out in when nobody chose one.

The reader's own choice comes first (the footer switcher's cookie, then the browser's
Accept-Language); without one, the default language chosen in the admin (Settings → Languages),
else ``SPEAKOUT_LANGUAGE``.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from speakout.net import sharedreads


def supported(code: str | None) -> str | None:
    """The offered language closest to ``code`` (``pt-PT`` finds ``pt-br``), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code.strip().lower())
    except LookupError:
        return None


CACHE_KEY = "speakout:theme:default-language"


def default_language(*, read_database: bool = True) -> str:
    """The site's default language: the admin's choice, else ``SPEAKOUT_LANGUAGE``.

    The choice is kept in the shared cache (written when the admin saves it, and again by the
    worker's ``refill_default_language`` job). Requests read only the cache
    (``read_database=False``) so that a page costs no query for it; mail reads the database when
    the cache has lost it. A project without the theme app (the discussion alone) has only
    ``SPEAKOUT_LANGUAGE``."""
    if not apps.is_installed("speakout.theme"):
        return settings.LANGUAGE_CODE
    value = sharedreads.get(CACHE_KEY)
    if value is None:
        if not read_database:
            return settings.LANGUAGE_CODE
        value = refill_default_language()
    return value


def language_keys(request) -> list[str]:
    """For ``sharedreads.prefetch``: the default language is read by SiteLanguageMiddleware
    for most requests, so it joins any read the request makes together."""
    return [CACHE_KEY]


def refill_default_language() -> str:
    """Read the admin's choice from the database into the shared cache; return it."""
    from .models import LanguageSettings

    row = LanguageSettings.objects.only("default_language").first()
    value = (row and supported(row.default_language)) or settings.LANGUAGE_CODE
    cache.set(CACHE_KEY, value, None)
    return value


def readers_choice(request) -> str | None:
    """The language the reader asked for (cookie, then browser), if the site offers it."""
    chosen = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if chosen:
        return chosen
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code != "*" and (found := supported(code)):
            return found
    return None


def content_default() -> str:
    """The language of the pages at unprefixed addresses: ``SPEAKOUT_LANGUAGE``, Wagtail's
    default locale. (The admin's default language is the interface's, and moves no page.)"""
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def content_prefixes() -> list[str]:
    """The languages whose pages live under their own prefix (``/fr/...``): all but the default."""
    default = content_default()
    return [code for code, _name in settings.LANGUAGES if code != default]


def content_language_of(path: str) -> str | None:
    """The language a path's prefix names (``/fr/report/`` → ``fr``), or None when unprefixed."""
    first = path.lstrip("/").split("/", 1)[0]
    if first and "/" in path.lstrip("/") and first in content_prefixes():
        return first
    return None
