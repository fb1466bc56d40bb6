"""Find commenter-supplied script in any HTML: public pages, admin screens, mails.

Our payloads all call ``alert(``, which none of our own markup contains. Parsing the document as
a browser would (html.parser), a payload is *live* if ``alert(`` appears in script or style
content, in an event-handler attribute, in a ``style`` attribute, in a URL attribute with a
scheme that runs code, or in a ``meta http-equiv`` refresh. Anywhere else (text, ``title``,
``value``, ``alt``, a harmless https address) it is only shown, which is what we want.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

MARKER = "alert("
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data", "xlink:href", "background"}
SAFE_SCHEMES = {"", "http", "https", "mailto"}


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self._raw_text_tag = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in {"script", "style"}:
            self._raw_text_tag = tag
        for name, value in attrs:
            value = value or ""
            if MARKER not in value and not (name in URL_ATTRIBUTES and _unsafe_scheme(value)):
                continue
            if name.startswith("on"):
                self.live.append(f"<{tag} {name}={value[:60]!r}>")
            elif name == "style":
                self.live.append(f"<{tag} style={value[:60]!r}>")
            elif name in URL_ATTRIBUTES and _unsafe_scheme(value):
                self.live.append(f"<{tag} {name}={value[:60]!r}>")
            elif tag == "meta" and "http-equiv" in attributes:
                self.live.append(f"<meta http-equiv content={value[:60]!r}>")
            elif tag in {"iframe", "object", "embed"}:
                self.live.append(f"<{tag} {name}={value[:60]!r}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == self._raw_text_tag:
            self._raw_text_tag = ""

    def handle_data(self, data):
        if self._raw_text_tag and MARKER in data:
            self.live.append(f"<{self._raw_text_tag}> content {data.strip()[:60]!r}")


def _unsafe_scheme(value: str) -> bool:
    cleaned = "".join(char for char in value if char > " ").lower()  # browsers drop tabs/newlines
    try:
        scheme = urlsplit(cleaned).scheme
    except ValueError:
        return True
    return scheme not in SAFE_SCHEMES


def live_payloads(html: str) -> list[str]:
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.live


def assert_no_live_payload(html: str, where: str) -> None:
    live = live_payloads(html)
    assert not live, f"commenter script could run in {where}: {live[:5]}"
