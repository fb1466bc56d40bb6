"""The allow-list: which origins may embed the discussion, and what that lets them do.

An origin is ``scheme://host[:port]`` exactly as a browser sends it in the ``Origin`` header.
The list is the admin's ``AllowedOrigin`` rows plus ``SPEAKOUT_EMBED_ORIGINS``; it is read on
every cross-origin request, so it is cached under a version counter every process shares
(``speakout.pagecache.versions``: files in the data folder, or Redis), which a change of a row
bumps, so a change made anywhere (the admin, ``speakout manage speakout_embed_allow``) reaches
every web process at its next request, even with the per-process cache (the embedded default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from speakout.pagecache import versions

from . import app_settings

if TYPE_CHECKING:
    from speakout.discussion.models import Thread

CACHE_KEY = "speakout:embed:origins"
CACHE_SECONDS = 30
VERSION = "embed-origins"


@dataclass(frozen=True)
class Origin:
    origin: str
    key_prefix: str = ""

    def thread_key(self, path_or_key: str) -> str:
        """The thread key for a page path (or a key the page chose) on this origin."""
        return f"{self.key_prefix}{path_or_key}"[:255]


TITLE_MAX_LENGTH = 200


def page_thread(entry: Origin, key: str, url: str) -> Thread:
    """The unsaved thread of a page on an allowed origin, for its first reply to store.

    Its title is the page's address on that origin, never text the caller sent: anyone can
    claim to be an allowed origin from outside a browser, and a thread's title goes into the
    site's own pages and mails."""
    from speakout.discussion.models import Thread

    parts = urlsplit(url)
    title = f"{entry.origin}{parts.path or '/'}"
    return Thread(key=key, url=url, title=title[:TITLE_MAX_LENGTH])


def is_address(value: str) -> bool:
    """No white space and no control character: ``urlsplit`` drops tabs and line breaks, so text
    after them ("URGENT: verify at https://…") would pass as part of an address, be stored as a
    thread's page address and be printed in the site's mails to its followers."""
    return value.isprintable() and not any(char.isspace() for char in value)


def visible_thread(key: str) -> Thread | None:
    """The thread stored under ``key``, None if there is none yet; 404 if it is not public."""
    from django.http import Http404

    from speakout.discussion.models import Thread

    thread = Thread.objects.filter(key=key).first()
    if thread is not None and (not thread.is_public or thread.status == Thread.Status.HIDDEN):
        raise Http404
    return thread


def normalise_origin(value: str) -> str:
    """``https://Example.org:443/`` -> ``https://example.org``; "" when it is not an origin."""
    try:
        parts = urlsplit((value or "").strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origin_of(url: str) -> str:
    """The origin of a page address; "" for one that is no plain address (see ``is_address``)."""
    if not is_address(url or ""):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return normalise_origin(f"{parts.scheme}://{parts.netloc}") if parts.scheme and parts.netloc else ""


def _load() -> dict[str, str]:
    from .models import AllowedOrigin

    table = {normalised: "" for normalised in map(normalise_origin, app_settings.ORIGINS) if normalised}
    for origin, prefix in AllowedOrigin.objects.filter(is_active=True).values_list("origin", "key_prefix"):
        table[normalise_origin(origin) or origin] = prefix
    return table


def allowed_origins() -> dict[str, str]:
    """The allow-list, kept with the version it was read under and used only while that version
    stands (as ``DiscussionSettings.load``): with the versions in Redis, both come in one trip."""
    version_key = versions.key(VERSION)
    found = cache.get_many([CACHE_KEY] if versions.file_versions() is not None else [version_key, CACHE_KEY])
    version = found.get(version_key)
    if version is None:
        version = versions.current([VERSION])[VERSION]
    kept = found.get(CACHE_KEY)
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == version:
        return kept[1]
    # The version is read before the rows: a change after this point moves it again.
    table = _load()
    cache.set(CACHE_KEY, (version, table), CACHE_SECONDS)
    return table


def allowed(origin: str) -> Origin | None:
    """The allow-list entry for an ``Origin`` header value, or None."""
    normalised = normalise_origin(origin)
    key_prefix = allowed_origins().get(normalised) if normalised else None
    return Origin(normalised, key_prefix) if key_prefix is not None else None


def own_origin(request) -> str:
    return normalise_origin(f"{request.scheme}://{request.get_host()}")


def _forget(**kwargs) -> None:
    versions.bump(VERSION)


def connect() -> None:
    from .models import AllowedOrigin

    post_save.connect(_forget, sender=AllowedOrigin, dispatch_uid="speakout-embed-origins-saved")
    post_delete.connect(_forget, sender=AllowedOrigin, dispatch_uid="speakout-embed-origins-deleted")
