"""The site's routes, from its URL configuration, for tests that walk every one, and what a
request to one wrote: rows and files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver


def routes(patterns, prefix=""):
    """(route string, URLPattern) for every pattern, with its resolvers' prefixes."""
    for pattern in patterns:
        text = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + text)
        elif isinstance(pattern, URLPattern):
            yield prefix + text, pattern


# What a GET may write, and why: not the site's data but the visit itself.
ALLOWED_WRITES = {
    "django_session": "the signed-in person's session",
    "wagtailusers_userprofile": "Wagtail makes a user's profile on their first admin page",
    "speakout_discussion_clientkey": "the key clients are hashed with, made by the first request of its period",
}


def writes_in(queries) -> list[str]:
    """The statements of a ``CaptureQueriesContext`` that wrote, but for ``ALLOWED_WRITES``."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and not any(table in query["sql"] for table in ALLOWED_WRITES)
    ]


def files_in_data_folders() -> dict[str, tuple[int, int]]:
    """Every file of the media and private folders, with its size and time of change."""
    folders = {Path(settings.MEDIA_ROOT), Path(settings.SPEAKOUT_PRIVATE_DIR)}
    return {
        str(path): (path.stat().st_size, path.stat().st_mtime_ns)
        for folder in folders
        if folder.exists()
        for path in folder.rglob("*")
        if path.is_file()
    }
