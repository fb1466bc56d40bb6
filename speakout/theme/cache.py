"""A content version for caching published fragments (article bodies, the menu) and pages.

Any change an anonymous reader could see other than through a page's own revision (a page
published or unpublished, an edited author, category, tag or image) bumps the version, and every
cached fragment carries it in its key, so nothing stale is served. The version is the page
cache's "content" counter (speakout.pagecache.versions), kept in the shared cache (Redis in
production) so all processes see a bump at once; every cached page depends on it too. The
publishing app connects the signals that bump it (speakout/publishing/cache.py).
"""

from __future__ import annotations

from speakout.pagecache import versions

NAME = "content"


def content_version(request=None) -> int:
    """The current version; with a request, read once for it, so the route, the fragments and
    the menu of one page are all built under the same version (and Redis is asked once)."""
    known = getattr(request, "_speakout_content_version", None)
    if known is not None:
        return known
    version = versions.current([NAME])[NAME]
    if request is not None:
        request._speakout_content_version = version
    return version


def bump_content_version(**kwargs) -> None:
    versions.bump(NAME)
