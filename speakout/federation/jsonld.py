"""Reading ActivityStreams JSON as servers send it, compacted or not.

Fedify sends compact JSON-LD: a property with one value is that value (``"to": "https://..."``,
``"tag": {...}``), with several a list. A reference may be a string or an object with ``id``.
These helpers read each shape the same way, so no handler has to care.
"""

from __future__ import annotations

import json
from typing import Any

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = {PUBLIC, "as:Public", "Public"}
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
CONTENT_TYPE = "application/activity+json"
LD_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


class Malformed(ValueError):
    """The document is not an activity Speakout can read; the message says why."""


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def ref(value: Any) -> str:
    """The id of a reference: a string, or an object's ``id`` ("" if neither)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id") or value.get("@id") or ""
        return found if isinstance(found, str) else ""
    return ""


def refs(value: Any) -> list[str]:
    return [found for found in (ref(item) for item in as_list(value)) if found]


def types(document: Any) -> set[str]:
    if not isinstance(document, dict):
        return set()
    return {kind for kind in as_list(document.get("type") or document.get("@type")) if isinstance(kind, str)}


def text(value: Any) -> str:
    """A plain string property, or the first of a language map (``contentMap``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return next((item for item in value.values() if isinstance(item, str)), "")
    if isinstance(value, list):
        return next((item for item in value if isinstance(item, str)), "")
    return ""


def is_public(document: dict[str, Any]) -> bool:
    """Public or unlisted: the public collection in ``to`` or ``cc``."""
    audience = refs(document.get("to")) + refs(document.get("cc"))
    return any(target in PUBLIC_ALIASES for target in audience)


def depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests, counting no further than ``limit`` + 1."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return level
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def parse(body: bytes, *, max_depth: int) -> dict[str, Any]:
    """An object from a request or response body; Malformed if it is not one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise Malformed("the body is not JSON") from error
    if not isinstance(document, dict):
        raise Malformed("the body is not a JSON object")
    if depth(document, max_depth) > max_depth:
        raise Malformed("the JSON nests too deeply")
    return document


def is_activity_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in ("application/activity+json", "application/ld+json", "application/json")


def accepts_activity_json(accept: str) -> bool:
    """Whether an Accept header asks for ActivityStreams rather than HTML."""
    for part in accept.split(","):
        kind, _, params = part.strip().partition(";")
        kind = kind.strip().lower()
        if kind == "application/activity+json" or (kind == "application/ld+json" and "activitystreams" in params):
            return True
    return False
