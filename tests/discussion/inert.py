"""Check that HTML can do nothing but show text and safe links, by parsing it like a browser."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

from speakout.discussion.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

SAFE_SCHEMES = {"http", "https", "mailto"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name == "rel" and tag == "a":
                continue
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name == "href":
                scheme = urlsplit((value or "").strip()).scheme.lower()
                if scheme and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"href scheme {scheme}")

    handle_startendtag = handle_starttag


def active_content(html: str) -> list[str]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems


def assert_inert(html: str) -> None:
    problems = active_content(html)
    assert not problems, f"{problems} in {html!r}"


class _PageCollector(HTMLParser):
    """For whole pages: our own templates' markup is fine; anything that could run is not."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data", "xlink:href"}

    def __init__(self, allowed_scripts):
        super().__init__(convert_charrefs=True)
        self.allowed_scripts = allowed_scripts
        self.problems = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attributes.get("src") not in self.allowed_scripts:
                self.problems.append(f"script {attributes}")
        if tag in {"iframe", "object", "embed", "base", "meta"} and tag != "meta":
            self.problems.append(f"tag <{tag}>")
        if tag == "meta" and "http-equiv" in attributes:
            self.problems.append("meta http-equiv")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"inline style on <{tag}>")
            if name in self.URL_ATTRIBUTES and value:
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"{name} scheme {scheme} on <{tag}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script content")


def page_active_content(
    html: str,
    allowed_scripts=("/static/discussion/discussion.js", "/static/identity/identity.js", "/static/pagecache/fill.js"),
) -> list[str]:
    collector = _PageCollector(set(allowed_scripts))
    collector.feed(html)
    collector.close()
    return collector.problems
