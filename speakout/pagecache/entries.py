"""Stored responses and their compressed variants.

A page is stored as a head (everything before its first per-request value) and a tail (raw
pieces and the holes between them). The head of the gzip and brotli variants is compressed once,
when stored, and ends on a byte boundary (a deflate sync flush; a brotli flush). On each response
the tail is filled in and appended uncompressed: as deflate stored blocks with the gzip trailer's
CRC continued from the head's, or as a brotli uncompressed meta-block followed by the empty last
meta-block. Both are plain, standard streams; nothing is recompressed per request. Pages put
their forms (and so their holes) after the long part, so the uncompressed tail is small.
"""

from __future__ import annotations

import hashlib
import re
import struct
import time
import zlib
from dataclasses import dataclass, field

import brotli

from .capture import HOLE_PREFIX

ENCODINGS = ("br", "gzip", "identity")
GZIP_LEVEL = 6
BROTLI_QUALITY = 6
_HOLE = re.compile(rb"%s([0-9a-f]{16})-(\d+)-" % HOLE_PREFIX.encode())


@dataclass
class Entry:
    status: int
    headers: list[tuple[str, str]]
    deps: dict[str, int]
    holes: list[tuple]
    built_at: float
    encoding: str = "identity"
    head: bytes = b""
    tail: list = field(default_factory=list)  # bytes pieces and hole indexes
    head_crc: int = 0
    head_length: int = 0

    @property
    def etag(self) -> str:
        etag = self.__dict__.get("_etag")
        if etag is None:  # computed once per entry: it is read on every response
            digest = hashlib.sha1(
                repr(sorted(self.deps.items())).encode() + str(self.built_at).encode(), usedforsecurity=False
            ).hexdigest()
            # Weak when per-request values differ between responses: the same page, not the same bytes.
            etag = self.__dict__["_etag"] = f'{"W/" if self.holes else ""}"{digest[:20]}"'
        return etag

    def body(self, values: list[bytes]) -> bytes:
        if not self.tail:
            return self.head
        tail = b"".join(piece if isinstance(piece, bytes) else values[piece] for piece in self.tail)
        if self.encoding == "identity":
            return self.head + tail
        if self.encoding == "gzip":
            trailer = struct.pack("<II", zlib.crc32(tail, self.head_crc), (self.head_length + len(tail)) & 0xFFFFFFFF)
            return self.head + _stored_blocks(tail) + trailer
        return self.head + _uncompressed_metablocks(tail) + b"\x03"  # ISLAST, ISLASTEMPTY


def split(content: bytes, nonce: str) -> tuple[bytes, list]:
    """The content before the first hole, and the rest as pieces and hole indexes."""
    pieces: list = []
    position = 0
    head = None
    for match in _HOLE.finditer(content):
        if match.group(1).decode() != nonce:
            continue  # not ours (someone typed something that looks like one): plain text
        piece = content[position : match.start()]
        if head is None:
            head = piece
        else:
            pieces.append(piece)
        pieces.append(int(match.group(2)))
        position = match.end()
    if head is None:
        return content, []
    pieces.append(content[position:])
    return head, [piece for piece in pieces if piece != b""]


def source(status, headers, deps, holes, content: bytes, nonce: str, markers: list[str] | None = None) -> Entry:
    """The stored identity copy. With ``markers`` (one per hole), each hole is written as its
    marker and the copy is the same bytes for every reader (HTML pages: see holes.py)."""
    head, tail = split(content, nonce)
    if markers is not None:
        body = head + b"".join(piece if isinstance(piece, bytes) else markers[piece].encode() for piece in tail)
        return Entry(status, headers, deps, [], time.time(), "identity", body, [])
    return Entry(status, headers, deps, holes, time.time(), "identity", head, tail)


def encode(entry: Entry, encoding: str) -> Entry:
    """The gzip or brotli variant of an identity entry."""
    if encoding == "gzip":
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15, 9)
        header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
        if entry.tail:
            head = header + compressor.compress(entry.head) + compressor.flush(zlib.Z_SYNC_FLUSH)
        else:
            trailer = struct.pack("<II", zlib.crc32(entry.head), len(entry.head) & 0xFFFFFFFF)
            head = header + compressor.compress(entry.head) + compressor.flush() + trailer
        crc, length = zlib.crc32(entry.head), len(entry.head)
    else:
        compressor = brotli.Compressor(quality=BROTLI_QUALITY)
        head = compressor.process(entry.head) + (compressor.flush() if entry.tail else compressor.finish())
        crc, length = 0, 0
    return Entry(
        entry.status, entry.headers, entry.deps, entry.holes, entry.built_at, encoding, head, entry.tail, crc, length
    )


def _stored_blocks(data: bytes) -> bytes:
    """Deflate stored blocks holding ``data``; the last one is final."""
    out = []
    chunks = [data[i : i + 65535] for i in range(0, len(data), 65535)] or [b""]
    for number, chunk in enumerate(chunks):
        final = 1 if number == len(chunks) - 1 else 0
        out.append(struct.pack("<BHH", final, len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(out)


def _uncompressed_metablocks(data: bytes) -> bytes:
    """Brotli uncompressed meta-blocks (RFC 7932 9.2): ISLAST=0, MNIBBLES=4, MLEN-1, and
    ISUNCOMPRESSED=1, padded to a byte; then the bytes themselves."""
    out = []
    for i in range(0, len(data), 65536):
        chunk = data[i : i + 65536]
        header = ((len(chunk) - 1) << 3) | (1 << 19)
        out.append(header.to_bytes(3, "little") + chunk)
    return b"".join(out)


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
