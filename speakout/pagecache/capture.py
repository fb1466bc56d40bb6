"""What a response being rendered for the shared cache collects: whether its view allows sharing,
the versions it depends on, and the per-request values it needs filled in on every response."""

from __future__ import annotations

import secrets

from . import versions

ATTRIBUTE = "_speakout_pagecache"
HOLE_PREFIX = "speakout-hole-"


class Capture:
    def __init__(self):
        self.shareable = False
        self.nonce = secrets.token_hex(8)  # unguessable, so no reader's text can forge a hole
        self.holes: list[tuple] = []
        self.deps: dict[str, int] = {}
        # Set when something personal went into the response: it is then never stored.
        self.private = False
        # Conditions a reader must meet for a stored copy to be theirs (readers' pages only,
        # see reader.py): ("call", "dotted.function", args), called as function(request, *args).
        self.guards: list[tuple] = []

    def hole(self, spec: tuple) -> str:
        try:
            index = self.holes.index(spec)
        except ValueError:
            index = len(self.holes)
            self.holes.append(spec)
        return f"{HOLE_PREFIX}{self.nonce}-{index}-"

    def depend(self, names) -> None:
        new = [name for name in names if name not in self.deps]
        if new:
            # Read before the data they guard is read: a change committed after this point
            # bumps past the value recorded here, so the page is never served stale.
            self.deps.update(versions.current(new))


def capturing(request) -> Capture | None:
    return getattr(request, ATTRIBUTE, None)


def share(request, *dependencies: str) -> bool:
    """Allow this response to be stored for every anonymous reader, valid while the named
    versions (and the site's content version) stand. False (and nothing done) unless the request
    is one the cache may answer."""
    capture = capturing(request)
    if capture is None:
        return False
    if capture.private:
        return False
    capture.shareable = True
    capture.depend(dependencies)
    return True


def keep_private(request) -> None:
    """Something in this response is for this reader alone: never store it."""
    capture = capturing(request)
    if capture is not None:
        capture.private = True
        capture.shareable = False


def guard(request, func, *args) -> None:
    """A stored copy of this response serves a signed-in reader (or a visitor with a session or
    guest cookie) only while ``func(request, *args)`` is true for them: e.g. "has no reply of
    their own in this thread". ``func`` must be a module-level function and ``args`` plain values
    (they are stored). Anonymous readers' copies need no guard and ignore it."""
    capture = capturing(request)
    if capture is not None:
        spec = ("call", f"{func.__module__}.{func.__qualname__}", tuple(args))
        if spec not in capture.guards:
            capture.guards.append(spec)


def depends_on(request, *names: str) -> None:
    capture = capturing(request)
    if capture is not None:
        capture.depend(names)
