"""Folding a long reply (speakout/discussion/collapse.py) re-parses nh3's sanitised HTML with
Python's parser and cuts it in two: neither part may become something nh3 would not have let
through. Hostile input, typed (Markdown → nh3) or imported (HTML → nh3), goes through the real
path; each part is what nh3 with the same allow-list makes of it, the two hold the whole text,
and the page's fold, parsed as a browser does (html5lib), has no tag, attribute or link scheme
beyond the allow-list and the fold's own ``<details>``."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

import html5lib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speakout.discussion.collapse import split_long
from speakout.discussion.html import ReplyRenderer
from speakout.discussion.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    render_markdown,
    sanitise,
)

HOSTILE = st.sampled_from(
    [
        "<p>", "</p>", "<em><strong>", "</strong></em>", "<blockquote><ul><li>", "</li></ul>", "<p",
        "<a href=", "<!-- x -->", "<!--", "-->", "&amp;", "&lt;script&gt;", "&#x3C;", "&#60;", "&",
        "&nbsp", "<![CDATA[<script>alert(1)</script>]]>", "</p><script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>', "<a href='java&#x09;script:alert(1)'>y</a>",
        "<img src=x onerror=alert(1)>", '<p title="</p><script>alert(1)</script>">', "\"'`",
        "<svg><style><img src=x onerror=alert(1)></style>", "<pre><code>", "</code></pre>",
        "<ol start=3 onclick=x>", "<a href=http://e.org/\"onmouseover=alert(1)>", "<s>", "<br>",
        "\n\n", "> ", "- ", "1. ", "`", "```\n", "[a](javascript:alert(1))", "[b](http://e.org/ 'x\"')",
        "**", "~~", "<http://e.org/>", "  \n", "\u202e", " ", "word ", "several words here ",
    ]
)  # fmt: skip
hostile = st.lists(st.one_of(HOSTILE, st.text(max_size=4)), min_size=12, max_size=40).map("".join)
FOLD = {"details": {"class"}, "summary": set(), "span": {"class"}}
# nh3 (Ammonia) keeps these on every tag unless told otherwise; they only label text.
GENERIC = {"lang", "title"}


@cache
def _renderer(lead: int) -> ReplyRenderer:
    renderer = ReplyRenderer(accepts_replies=True)
    renderer.collapse_longer_than, renderer.collapse_lead = lead + 10, lead
    return renderer


def _tree(html: str):
    return html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)


def _text(html: str) -> str:
    return "".join(_tree(html).itertext())


def _beyond_the_allow_list(html: str) -> list[str]:
    found = []
    for element in _tree(html).iter():
        tag = element.tag
        if not isinstance(tag, str) or tag == "DOCUMENT_FRAGMENT":
            continue  # comments
        if tag not in ALLOWED_TAGS and tag not in FOLD:
            found.append(f"<{tag}>")
        allowed = (
            GENERIC | ALLOWED_ATTRIBUTES.get(tag, set()) | FOLD.get(tag, set()) | ({"rel"} if tag == "a" else set())
        )
        found += [f"{name} on <{tag}>" for name in element.attrib if name not in allowed]
        scheme = urlsplit(element.attrib.get("href", "").strip()).scheme.lower()
        if scheme and scheme not in ALLOWED_URL_SCHEMES:
            found.append(f"href {scheme}:")
    if "<!--" in html:
        found.append("a comment")
    return found


@given(source=hostile, typed=st.booleans(), lead=st.integers(8, 40))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_fold_of_sanitised_html_is_still_sanitised_html(source, typed, lead):
    stored = render_markdown(source) if typed else sanitise(source)
    page = _renderer(lead).body(stored)
    assert _beyond_the_allow_list(page) == [], page

    split = split_long(stored, longer_than=lead + 10, lead=lead)
    if split is None:
        assert page == stored
        return
    first, rest, _words = split
    for part in (first, rest):
        assert sanitise(part) == part.strip(), (stored, part)
    assert _text(first) + _text(rest) == _text(stored)
