"""Avatars drawn on our own server from a keyed hash: no Gravatar, no request to anyone else.

A reply stores an ``avatar_key``: the first 16 hex digits of an HMAC (keyed with the site's
secret) of what proves who wrote it: their account, their commenter record (reached only through
proof) or their guest token. Never of a typed address or name: anyone can type those, and a key
derived from them would let whoever types someone's address find every reply that person wrote.
A writer who proves nothing gets a random key. The picture depends only on the key, so
``/discussion/avatar/<key>.svg`` is the same forever and is served with long, immutable cache
headers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.conf import settings

KEY_LENGTH = 16
KEY_PATTERN = re.compile(r"^[0-9a-f]{16}$")
SIZE = 5  # a 5×5 grid, mirrored left to right
DEFAULT_KEY = "0" * KEY_LENGTH  # replies stored without a key (bulk imports) share one plain avatar


def avatar_key(seed: str) -> str:
    """The public avatar key for a private seed (``user:<id>``, ``commenter:<id>``...)."""
    key = hashlib.sha256(f"avatar:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, seed.strip().lower().encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]


def random_avatar_key() -> str:
    """A key tied to nothing: for anonymised replies."""
    return secrets.token_hex(KEY_LENGTH // 2)


def seed_for(
    *, user_id: int | None = None, commenter_id: int | None = None, guest_key: str = "", **_claims: str
) -> str:
    """The proof a reply's avatar follows, strongest first; "" when there is none. Typed claims
    (``email``, ``name``) are accepted and ignored, so old callers cannot derive a key from them."""
    if user_id is not None:
        return f"user:{user_id}"
    if commenter_id is not None:
        return f"commenter:{commenter_id}"
    if guest_key:
        return f"guest:{guest_key}"
    return ""


def avatar_for(*, user_id: int | None = None, commenter_id: int | None = None, guest_key: str = "") -> str:
    """The avatar key of a reply written with this proof: random when nothing is proven."""
    seed = seed_for(user_id=user_id, commenter_id=commenter_id, guest_key=guest_key)
    return avatar_key(seed) if seed else random_avatar_key()


def render_svg(key: str) -> str:
    """A symmetric 5×5 pattern in one colour on a light background, from the key's bits."""
    value = int(key, 16)
    hue = value % 360
    bits = value >> 9
    cells = []
    for row in range(SIZE):
        for column in range((SIZE + 1) // 2):
            if bits & 1:
                cells.append((column, row))
                if column != SIZE - 1 - column:
                    cells.append((SIZE - 1 - column, row))
            bits >>= 1
    path = "".join(f"M{x} {y}h1v1h-1z" for x, y in sorted(cells))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 7 7" width="40" height="40">'
        f'<rect x="-1" y="-1" width="7" height="7" fill="hsl({hue},45%,92%)"/>'
        f'<path d="{path}" fill="hsl({hue},55%,38%)"/></svg>'
    )
