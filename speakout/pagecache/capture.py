"""What a response being rendered for the shared cache collects: whether its view allows sharing,
the versions it depends on, and the per-request values written as placeholders."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from . import versions

ATTRIBUTE = "_speakout_pagecache"
HOLE_PREFIX = "speakout-hole-"
_HOLE = re.compile(rb"%s([0-9a-f]{16})-(\d+)-" % HOLE_PREFIX.encode())


class Capture:
    def __init__(self):
        self.shareable = False
        self.nonce = secrets.token_hex(8)  # unguessable, so no reader's text can forge a hole
        self.holes: list[tuple] = []
        self.deps: dict[str, int] = {}
        # Set when something personal went into the response: it is then never stored.
        self.private = False

    def hole(self, spec: tuple) -> str:
        try:
            index = self.holes.index(spec)
        except ValueError:
            index = len(self.holes)
            self.holes.append(spec)
        return f"{HOLE_PREFIX}{self.nonce}-{index}-"

    def replace_holes(self, content: bytes, value: Callable[[tuple], str]) -> bytes:
        """``content`` with each of this rendering's placeholders replaced by ``value(spec)``;
        a lookalike with another nonce (typed by someone) stays plain text."""

        def replaced(match: re.Match) -> bytes:
            if match.group(1).decode() != self.nonce:
                return match.group(0)
            return value(self.holes[int(match.group(2))]).encode()

        return _HOLE.sub(replaced, content)

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
    if capture is None or capture.private:
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


def depends_on(request, *names: str) -> None:
    capture = capturing(request)
    if capture is not None:
        capture.depend(names)
