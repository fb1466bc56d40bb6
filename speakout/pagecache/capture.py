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
    capture.shareable = True
    capture.depend(dependencies)
    return True


def depends_on(request, *names: str) -> None:
    capture = capturing(request)
    if capture is not None:
        capture.depend(names)
