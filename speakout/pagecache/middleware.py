"""The page cache middleware. On a hit it runs before sessions, authentication, URL routing,
Wagtail and templates. A stored page holds no CSRF token (holes.py), so no cookie is read or set.

Only GET and HEAD requests of anonymous readers are looked up: no query string, no cookie but
the CSRF and language ones (a session cookie means a signed-in reader, the guest cookie a guest
who may see their held replies), no Authorization or guest header. A response is stored only if
its view called ``share()``, it is a complete 200, it sets no cookie, it did not use the session,
it asked for no private caching, and it read no CSRF token.
"""

from __future__ import annotations

import hashlib

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_etags
from django.utils.translation import get_language

from . import app_settings, entries
from .capture import ATTRIBUTE, Capture
from .holes import fill, marker
from .kept import KeptEntries

STATUS_HEADER = "X-Speakout-Cache"
# Where an answer from the cache leaves its entry's key and encoding, for the WSGI front
# (front.py) to answer the next request of the same shape itself.
ENVIRON_KEY = "speakout.pagecache.entry"
# Headers a stored response keeps; the rest are the page cache's own or are set per response.
_SKIPPED_HEADERS = {
    "set-cookie", "cache-control", "etag", "last-modified", "expires", "content-length", "content-encoding",
}  # fmt: skip
# Recently served entries, kept in this process too: a hit then costs one small read of the
# versions instead of fetching and unpickling the whole page.
LOCAL_ENTRIES = 48
_kept = KeptEntries(LOCAL_ENTRIES)


def asks_for_json_ld(accept: str) -> bool:
    """A request for the ActivityStreams form of a page (the federation answers it): the cache
    holds only the HTML form, so such a request is never answered from it."""
    accept = accept.lower()
    return "application/activity+json" in accept or "application/ld+json" in accept


def is_eligible(request) -> bool:
    if request.method not in ("GET", "HEAD") or not app_settings.ENABLED:
        return False
    if getattr(request, "is_dummy", False):  # Wagtail's preview of a draft at the live page's address
        return False
    meta = request.META
    if asks_for_json_ld(meta.get("HTTP_ACCEPT", "")):
        return False
    if meta.get("QUERY_STRING") or request.path_info.startswith(app_settings.EXCLUDED_PREFIXES):
        return False
    if any(name in meta for name in app_settings.PERSONAL_HEADERS):
        return False
    neutral = app_settings.NEUTRAL_COOKIES
    return all(name in neutral for name in request.COOKIES)


def base_key(request) -> str:
    raw = f"{request.scheme}://{request.get_host()}{request.path}|{get_language()}"
    return "speakout:page:" + hashlib.md5(raw.encode(), usedforsecurity=False).hexdigest()


def lookup(base: str, encoding: str) -> entries.Entry | None:
    """The stored entry, if every version it was built from still stands."""
    return _kept.lookup(f"{base}:{encoding}")


def store(base: str, entry: entries.Entry) -> None:
    _kept.store(f"{base}:{entry.encoding}", entry)


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_eligible(request):
            return self.get_response(request)
        base = base_key(request)
        encoding = entries.choose_encoding(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        entry = lookup(base, encoding)
        if entry is None and encoding != "identity":
            source = lookup(base, "identity")
            if source is not None:
                entry = entries.encode(source, encoding)
                store(base, entry)
        if entry is not None:
            request.META[ENVIRON_KEY] = (base, entry.encoding)
            return respond(request, entry, "hit")

        capture = Capture()
        response, csrf_used = render_capturing(self.get_response, request, capture)
        if self.storable(request, response, capture, csrf_used):
            headers = [(name, value) for name, value in response.items() if name.lower() not in _SKIPPED_HEADERS]
            # The same bytes for everyone: per-request values become fill markers (holes.py).
            body = capture.replace_holes(response.content, marker)
            entry = entries.Entry(response.status_code, headers, capture.deps, body)
            store(base, entry)
            if encoding != "identity":
                entry = entries.encode(entry, encoding)
                store(base, entry)
            request.META[ENVIRON_KEY] = (base, entry.encoding)
            return respond(request, entry, "miss")
        if capture.holes:
            fill_in_place(response, capture)
        return response

    @staticmethod
    def storable(request, response, capture: Capture, csrf_used: bool) -> bool:
        if not capture.shareable or csrf_used or response.status_code != 200 or response.streaming:
            return False
        if capture.holes and not response.get("Content-Type", "").startswith("text/html"):
            return False  # only a page's script fills markers in
        if request.method != "GET":  # a view may leave the body out of a HEAD answer
            return False
        if response.cookies or (hasattr(request, "session") and request.session.modified):
            return False
        control = response.get("Cache-Control", "").lower()
        if "private" in control or "no-store" in control:
            return False
        vary = {part.strip().lower() for part in response.get("Vary", "").split(",") if part.strip()}
        return vary <= app_settings.vary_allowed()


def render_capturing(get_response, request, capture: Capture):
    """(response, csrf_used): the response rendered for a shared copy, its per-request values
    written as placeholders; ``csrf_used`` tells whether something read a real CSRF token."""
    capture.depend(["content"])
    setattr(request, ATTRIBUTE, capture)
    csrf_used_before = request.META.get("CSRF_COOKIE_NEEDS_UPDATE", False)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    try:
        response = get_response(request)
    finally:
        delattr(request, ATTRIBUTE)
        # get_token() called during rendering means a real token may be in the page.
        csrf_used = request.META.get("CSRF_COOKIE_NEEDS_UPDATE", False)
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = csrf_used_before or csrf_used
    return response, csrf_used


def fill_in_place(response, capture: Capture) -> None:
    """A response that is not stored gets its values in place of the placeholders."""
    if response.streaming:
        response.streaming_content = [capture.replace_holes(b"".join(response.streaming_content), fill)]
    else:
        response.content = capture.replace_holes(response.content, fill)


def respond(request, entry: entries.Entry, status: str):
    etag = entry.etag
    not_modified = False
    if request.META.get("HTTP_IF_NONE_MATCH"):
        tags = {tag.removeprefix("W/") for tag in parse_etags(request.META["HTTP_IF_NONE_MATCH"])}
        not_modified = etag.removeprefix("W/") in tags or "*" in tags
    if not_modified:
        response = HttpResponseNotModified()
    else:
        body = entry.body
        response = HttpResponse(b"" if request.method == "HEAD" else body, status=entry.status)
        if request.method == "HEAD":  # the length a GET would have
            response["Content-Length"] = str(len(body))
        for name, value in entry.headers:
            response[name] = value
        if entry.encoding != "identity":
            response["Content-Encoding"] = entry.encoding
    response["ETag"] = etag
    response["Last-Modified"] = http_date(entry.built_at)
    # A browser or a CDN may keep the page and revalidates each use (a cheap 304).
    response["Cache-Control"] = "public, no-cache"
    patch_vary_headers(response, ("Accept-Encoding", "Cookie"))
    response[STATUS_HEADER] = status
    return response
