"""Shared pages for signed-in readers and visitors with a session or guest cookie.

The page cache middleware answers anonymous readers only: a session or guest cookie sends the
request past it, to be rendered for that reader. Yet most such readers see the anonymous page
with a few personal parts: "You are commenting as NAME", a reply form without the name and email
fields, their CSRF and form tokens. This middleware, last in MIDDLEWARE (so sessions,
authentication, the staff MFA check and every other middleware have run), keeps one copy of a
page per *kind* of reader (signed in, or not) with those parts as per-request holes
(``holes.per_request``, ``holes.per_reader``, the CSRF placeholder), and fills them in for the
reader at hand. A copy is used only while:

- the versions it was built from stand (as for anonymous pages: a new reply, an edit, a
  moderation decision, a report edit or a settings change shows on the next request);
- the reader meets each of its guards (``capture.guard``): for a report, "has no reply of their
  own on show in the thread", since such a reader's reply list is rendered for them alone.

A rendering is stored only if its view declared it shareable (``capture.share``), it is a
complete 200 with no cookie set, it did not change the session, read no CSRF token except
through the placeholder, and nothing marked it private (``capture.keep_private``). While it is
rendered, ``request.user`` is watched: reading anything of the account but whether it is signed
in and its id (a name, an email, a permission) marks the rendering private, so a template that
shows something personal without a hole is served uncached rather than shared.
"""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import http_date

from . import app_settings, entries
from .capture import Capture, capturing
from .holes import fill, passes
from .kept import KeptEntries
from .middleware import base_key, fill_in_place, is_eligible, render_capturing

# Paths whose answers depend on no account (the JSON API): looked up for the guest header only.
API_PREFIXES = ("/api/",)
_PLAIN_HEADERS = frozenset({"content-type", "content-language", "x-frame-options"})
# What a rendering may read of request.user and still be shared between readers of its kind.
USER_ATTRIBUTES_SHARED = frozenset({"is_authenticated", "is_anonymous", "pk", "id", "is_active", "_meta", "_state"})
# Pages kept in this process as well (identity bodies of about 200 KB for a long thread): a
# hit then reads only the small version counters from the shared cache.
LOCAL_ENTRIES = 8
_kept = KeptEntries(LOCAL_ENTRIES, lambda stored: stored.entry.deps)


@dataclass
class ReaderEntry:
    entry: entries.Entry
    guards: list[tuple]


class _WatchedUser:
    """Stands in for request.user while a page is rendered for readers of its kind."""

    __slots__ = ("_user", "_capture")

    def __init__(self, user, capture: Capture):
        object.__setattr__(self, "_user", user)
        object.__setattr__(self, "_capture", capture)

    def __getattr__(self, name):
        if name not in USER_ATTRIBUTES_SHARED:
            self._capture.private = True
        return getattr(self._user, name)

    def __setattr__(self, name, value):
        self._capture.private = True
        setattr(self._user, name, value)

    # Identity and comparisons of the account are personal too.
    __class__ = property(operator.attrgetter("_user.__class__"))  # type: ignore[assignment]

    def __eq__(self, other):
        self._capture.private = True
        return self._user == (other._user if isinstance(other, _WatchedUser) else other)

    def __hash__(self):
        self._capture.private = True
        return hash(self._user)

    def __str__(self):
        self._capture.private = True
        return str(self._user)


def _reader_cookies() -> frozenset[str]:
    return frozenset({*app_settings.NEUTRAL_COOKIES, settings.SESSION_COOKIE_NAME, *app_settings.READER_COOKIES})


def is_candidate(request) -> bool:
    """A GET the anonymous cache would take but for a session or guest cookie or guest header."""
    if request.method != "GET" or not app_settings.ENABLED or capturing(request) is not None:
        return False
    if is_eligible(request):  # anonymous: the page cache's own (it may be switched off for HEAD etc.)
        return False
    meta = request.META
    if meta.get("QUERY_STRING") or request.path_info.startswith(app_settings.EXCLUDED_PREFIXES):
        return False
    if "HTTP_AUTHORIZATION" in meta:
        return False
    if request.path_info.startswith(API_PREFIXES):
        # The JSON API knows no accounts, only the guest header; without one it is anonymous.
        return "HTTP_X_SPEAKOUT_GUEST" in meta
    if "HTTP_X_SPEAKOUT_GUEST" in meta:
        return False
    allowed = _reader_cookies()
    return all(name in allowed for name in request.COOKIES)


def reader_key(request) -> str:
    if request.path_info.startswith(API_PREFIXES):
        # Never request.user here: the API's answers do not vary on the session cookie.
        kind = "api-guest"
    else:
        kind = "signed-in" if request.user.is_authenticated else "visitor"
    return f"{base_key(request)}:reader:{kind}"


def forget_all() -> None:
    """Drop this process's copies (tests; versions normally retire them)."""
    _kept.clear()


def _respond(request, stored: ReaderEntry) -> HttpResponse:
    entry = stored.entry
    body = entry.body([fill(spec, request).encode() for spec in entry.holes])
    response = HttpResponse(body, status=entry.status)
    for name, value in entry.headers:
        response[name] = value
    if "Expires" in response:  # "never cache" (add_never_cache_headers): expired as of now
        response["Expires"] = http_date(time.time() - 1)
    return response


class ReaderPageMiddleware:
    """Last in MIDDLEWARE: answers signed-in readers and visitors with cookies from a copy kept for
    readers of their kind, with their own values filled in (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_candidate(request):
            return self.get_response(request)
        key = reader_key(request)
        stored = _kept.lookup(key)
        if stored is not None:
            if all(passes(spec, request) for spec in stored.guards):
                return _respond(request, stored)
            # This reader's page is their own (a reply of theirs on show): render it plainly,
            # without the placeholders and the sharing checks a rendering for the cache costs.
            return self.get_response(request)

        capture = Capture()
        watched = not request.path_info.startswith(API_PREFIXES)
        user = request.user if watched else None
        if watched:
            request.user = _WatchedUser(user, capture)
        try:
            response, csrf_used = render_capturing(self.get_response, request, capture)
        finally:
            if watched:
                request.user = user
        if not self.storable(request, response, capture, csrf_used):
            if capture.holes:
                fill_in_place(request, response, capture)
            return response
        source = entries.source(
            response.status_code, list(response.items()), capture.deps, capture.holes, response.content, capture.nonce
        )
        stored = ReaderEntry(source, list(capture.guards))
        _kept.store(key, stored)
        return _respond(request, stored)

    @staticmethod
    def storable(request, response, capture: Capture, csrf_used: bool) -> bool:
        if not capture.shareable or capture.private or csrf_used:
            return False
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        if hasattr(request, "session") and request.session.modified:
            return False
        if capture.guards:
            # The view said which readers its answer is for (the thread JSON for guests without
            # a reply of their own): its headers ("never cache" for browsers) are part of it.
            return True
        control = response.get("Cache-Control", "").lower()
        if "private" in control or "no-store" in control or response.has_header("Vary"):
            return False
        # Only the view's own headers are kept; the middleware above adds the rest per response.
        return all(name.lower() in _PLAIN_HEADERS for name in response.headers)
