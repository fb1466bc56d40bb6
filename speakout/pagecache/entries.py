"""Stored responses and their compressed variants.

A stored page is the same bytes for every reader (its per-request values are fill markers:
holes.py), so its gzip and brotli copies are compressed once, when first asked for, and sent as
they are.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import time
from dataclasses import dataclass, field

import brotli

GZIP_LEVEL = 6
BROTLI_QUALITY = 6


@dataclass
class Entry:
    status: int
    headers: list[tuple[str, str]]
    deps: dict[str, int]
    body: bytes
    built_at: float = field(default_factory=time.time)
    encoding: str = "identity"

    @property
    def etag(self) -> str:
        etag = self.__dict__.get("_etag")
        if etag is None:  # computed once per entry: it is read on every response
            digest = hashlib.sha1(
                repr(sorted(self.deps.items())).encode() + str(self.built_at).encode(), usedforsecurity=False
            ).hexdigest()
            etag = self.__dict__["_etag"] = f'"{digest[:20]}"'
        return etag


def encode(entry: Entry, encoding: str) -> Entry:
    """The gzip or brotli variant of an identity entry."""
    if encoding == "gzip":
        body = gzip.compress(entry.body, GZIP_LEVEL, mtime=0)
    else:
        body = brotli.compress(entry.body, quality=BROTLI_QUALITY)
    return Entry(entry.status, entry.headers, entry.deps, body, entry.built_at, encoding)


def choose_encoding(accept_encoding: str) -> str:
    """br, then gzip, then identity, as the client accepts them (a zero q-value refuses)."""
    accepted = set()
    for part in accept_encoding.lower().split(","):
        name, _sep, params = part.strip().partition(";")
        name = name.strip()
        if "q=0" in params.replace(" ", "") and not re.search(r"q=0\.\d*[1-9]", params):
            continue
        accepted.add(name)
    for encoding in ("br", "gzip"):
        if encoding in accepted or "*" in accepted:
            return encoding
    return "identity"
