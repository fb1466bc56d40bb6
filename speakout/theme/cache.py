"""A content version for caching published fragments (article bodies, the menu).

Any change an anonymous reader could see other than through a page's own revision (a page
published or unpublished, an edited author, category, tag or image) bumps the version, and every
cached fragment carries it in its key, so nothing stale is served. The version lives in the
shared cache (Redis in production), so all processes see a bump at once. The publishing app
connects the signals that bump it (speakout/publishing/cache.py).
"""

from __future__ import annotations

from django.core.cache import cache

VERSION_KEY = "speakout:content-version"


def content_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY) or 1
    return version


def bump_content_version(**kwargs) -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet, or evicted: start again above any version cached before
        cache.set(VERSION_KEY, 2, timeout=None)
