"""Safe, streaming XML reading for the importers.

defusedxml's ``iterparse`` refuses entity declarations and external references (billion laughs,
XXE), and iterparse hands elements over one at a time, so a caller that clears each finished
element keeps memory flat however large the file is. Namespaces are matched by what they mean,
not by their exact spelling: WordPress has written ``http://wordpress.org/export/1.0/`` to
``1.2/``, and some exports carry ``https://``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from django.utils.translation import gettext as _

from .errors import ImportFailed

_NAMESPACES = [
    ("excerpt", re.compile(r"^https?://(www\.)?wordpress\.org/export/\d+(\.\d+)*/excerpt/?$")),
    ("wp", re.compile(r"^https?://(www\.)?wordpress\.org/export/\d+(\.\d+)*/?$")),
    ("content", re.compile(r"^https?://purl\.org/rss/1\.0/modules/content/?$")),
    ("dc", re.compile(r"^https?://purl\.org/dc/elements/1\.1/?$")),
    ("wfw", re.compile(r"^https?://wellformedweb\.org/commentapi/?$", re.I)),
    ("disqus", re.compile(r"^https?://disqus\.com/?$")),
    ("dsq", re.compile(r"^https?://disqus\.com/disqus-internals/?$")),
]


@lru_cache(maxsize=256)
def qualify(tag: str) -> str:
    """``{http://wordpress.org/export/1.1/}post_id`` → ``wp:post_id``; unknown namespaces → ``?:``."""
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    for prefix, pattern in _NAMESPACES:
        if pattern.match(uri):
            return f"{prefix}:{local}"
    return f"?:{local}"


def text(element: Element | None) -> str:
    return (element.text or "") if element is not None else ""


def children(element: Element) -> Iterator[tuple[str, Element]]:
    for child in element:
        yield qualify(child.tag), child


def first_texts(element: Element) -> dict[str, str]:
    """The text of the first child of each qualified name (later duplicates are ignored)."""
    out: dict[str, str] = {}
    for name, child in children(element):
        out.setdefault(name, text(child))
    return out


class CountingReader:
    """Wraps a binary file and counts the bytes read, for the progress bar's time left."""

    def __init__(self, handle):
        self.handle = handle
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.position += len(data)
        return data


def stream(handle, depth: int) -> Iterator[tuple[str, Element]]:
    """Yield ``(name, element)`` for every element ``depth`` (1 or more) levels below the root
    once it is complete, then free it. ``depth=2`` gives an RSS channel's children. A parse
    error becomes ``ImportFailed`` naming the line."""
    stack: list[Element] = []
    try:
        for event, element in iterparse(handle, events=("start", "end"), forbid_dtd=False):
            if event == "start":
                stack.append(element)
                continue
            stack.pop()
            if len(stack) == depth:
                yield qualify(element.tag), element
                stack[-1].remove(element)
    except ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else None
        raise ImportFailed(
            _("The file is not well-formed XML (line %(line)s): %(error)s") % {"line": line, "error": error}, line=line
        ) from error
    except DefusedXmlException as error:
        raise ImportFailed(
            _("The file declares entities or external references, which are refused for safety: %(error)s")
            % {"error": error}
        ) from error
