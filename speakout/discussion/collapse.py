"""Very long replies, folded: the first part shows, the rest waits in a ``<details>`` element.

``<details>`` needs no script, is a button to keyboards and screen readers, and the browser's
find-in-page opens it. The split is made on the reply's stored (sanitised) HTML when a reply
list is built, never stored: exports and the API keep the whole text as it was written.
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"br", "hr", "img", "wbr"}


class _Splitter(HTMLParser):
    """Copies the HTML through and notes one cut: at the end of the top-level element that ends
    at ``boundary`` characters of text, or, without a boundary, at the first space after
    ``lead`` characters (the elements still open there are closed and opened again)."""

    def __init__(self, lead: int, boundary: int | None = None):
        super().__init__(convert_charrefs=False)
        self.lead = lead
        self.boundary = boundary
        self.out: list[str] = []
        self.stack: list[tuple[str, str]] = []
        self.count = 0
        self.ends: list[int] = []  # text length at the end of each top-level element
        self.cut: tuple[int, list[tuple[str, str]], int] | None = None

    def _mark(self) -> None:
        self.cut = (len(self.out), list(self.stack), self.count)

    def handle_starttag(self, tag, attrs):
        raw = self.get_starttag_text() or f"<{tag}>"
        self.out.append(raw)
        if tag not in VOID:
            self.stack.append((tag, raw))

    def handle_startendtag(self, tag, attrs):
        self.out.append(self.get_starttag_text() or f"<{tag}>")

    def handle_endtag(self, tag):
        self.out.append(f"</{tag}>")
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == tag:
                del self.stack[position:]
                break
        if not self.stack:
            self.ends.append(self.count)
            if self.cut is None and self.boundary is not None and self.count >= self.boundary:
                self._mark()

    def handle_data(self, data):
        if self.cut is None and self.boundary is None and self.count + len(data) > self.lead:
            space = data.find(" ", max(0, self.lead - self.count))
            if space >= 0:
                self.out.append(data[:space])
                self.count += space
                self._mark()
                data = data[space:]
        self.out.append(data)
        self.count += len(data)

    def handle_entityref(self, name):
        self.out.append(f"&{name};")
        self.count += 1

    def handle_charref(self, name):
        self.out.append(f"&#{name};")
        self.count += 1


def _parse(html: str, lead: int, boundary: int | None) -> _Splitter:
    splitter = _Splitter(lead, boundary)
    splitter.feed(html)
    splitter.close()
    return splitter


def split_long(html: str, *, longer_than: int, lead: int) -> tuple[str, str, int] | None:
    """``(lead_html, rest_html, words_in_rest)`` for a reply whose text is longer than
    ``longer_than`` characters, or None when it is shown whole. The fold comes after the first
    paragraph (or list, quote...) that ends past ``lead`` characters, unless that one runs past
    twice ``lead``: then inside it, at a space."""
    if len(html) <= longer_than:  # markup only adds to the length: most replies stop here
        return None
    first = _parse(html, lead, boundary=None)
    if first.count <= longer_than:
        return None
    boundary = next((end for end in first.ends if end >= lead), None)
    splitter = _parse(html, lead, boundary) if boundary is not None and boundary <= 2 * lead else first
    if splitter.cut is None:
        return None
    at, still_open, counted = splitter.cut
    if splitter.count - counted < lead // 4:
        return None  # not worth a fold
    closing = "".join(f"</{tag}>" for tag, _raw in reversed(still_open))
    opening = "".join(raw for _tag, raw in still_open)
    rest = "".join(splitter.out[at:])
    words = len(_text(rest).split())
    return "".join(splitter.out[:at]) + closing, opening + rest, words


def _text(html: str) -> str:
    parts: list[str] = []
    parser = HTMLParser()
    parser.handle_data = parts.append  # type: ignore[method-assign]
    parser.feed(html)
    parser.close()
    return " ".join(parts)
