"""Per-request values inside a shared page.

While a page is rendered for the cache, a per-request value is written as a placeholder, and
every response (the first included) gets a fresh value in its place: a view's time-trap token and
a form's submission id, through ``per_request``. A page rendered for the cache carries no CSRF
token at all (the ``csrf`` context processor below): cross-site forms are refused from the
browser's own headers (speakout/net/crossorigin.py), so no form needs one.

A stored HTML page carries no per-request value at all, so every reader (and a CDN) gets the same
bytes: each placeholder becomes a *fill marker*, ``fill:`` and the signed description of the
value. The page's script (``pagecache/fill.js``) asks ``fill_values`` for fresh values and puts
them in. A form sent with its markers as they are (no JavaScript) is taken as it is: the forms
read a marker as "not known" (``is_marker``), never as a value. A response that is not stored
gets the values themselves (``fill`` below).
"""

from __future__ import annotations

import functools

from django.core import signing
from django.utils.module_loading import import_string

from .capture import capturing


def per_request(request, func, *args) -> str:
    """``func(*args)`` now, or a placeholder for it when the page is being rendered for the shared
    cache. ``func`` must be a module-level function and ``args`` plain values (they are stored)."""
    capture = capturing(request)
    if capture is None:
        return func(*args)
    return capture.hole(("call", f"{func.__module__}.{func.__qualname__}", tuple(args)))


def csrf(request) -> dict:
    """Context processor, listed after Django's built-in one: no CSRF token while rendering for
    the shared cache (``{% csrf_token %}`` writes nothing), Django's own value otherwise."""
    if capturing(request) is None:
        return {}
    return {"csrf_token": "NOTPROVIDED"}


_function = functools.cache(import_string)


def fill(spec: tuple) -> str:
    return _function(spec[1])(*spec[2])


MARKER_PREFIX = "fill:"
_MARKER_SALT = "speakout.pagecache.fill"


def marker(spec: tuple) -> str:
    """The fill marker for a per-request value: signed, so a client can only ask for values the
    server itself put in a page (no other function can be named)."""
    # Not time-stamped: the same value gets the same marker, so a page asks for it once.
    return MARKER_PREFIX + signing.Signer(salt=_MARKER_SALT).sign_object(list(spec))


def spec_for(value: str) -> tuple | None:
    """The value a fill marker stands for, or None if ``value`` is not a genuine marker."""
    if not isinstance(value, str) or not value.startswith(MARKER_PREFIX):
        return None
    try:
        spec = signing.Signer(salt=_MARKER_SALT).unsign_object(value[len(MARKER_PREFIX) :])
    except signing.BadSignature:
        return None
    if isinstance(spec, list) and len(spec) == 3 and spec[0] == "call" and isinstance(spec[2], list):
        return ("call", spec[1], tuple(spec[2]))
    return None


def is_marker(value) -> bool:
    """Whether a posted value is a fill marker sent as it was (the reader's browser ran no script):
    the value it stands for is not known."""
    return isinstance(value, str) and value.startswith(MARKER_PREFIX)
