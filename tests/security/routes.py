"""The site's routes, from its URL configuration, for tests that walk every one."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver


def routes(patterns, prefix=""):
    """(route string, URLPattern) for every pattern, with its resolvers' prefixes."""
    for pattern in patterns:
        text = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + text)
        elif isinstance(pattern, URLPattern):
            yield prefix + text, pattern
