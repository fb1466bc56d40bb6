"""Turn a reply's Markdown into safe HTML, once, at write time.

markdown-it-py parses a small subset (paragraphs, emphasis, links, quotes, lists, code) with raw
HTML switched off, so typed HTML is shown as text. nh3 (the Ammonia sanitiser) then keeps only an
allow-list of tags and attributes and sets ``rel`` on every link. Sanitising is the last step:
nothing transforms the HTML after it (see the WordPress bug where a transform ran after it).
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "blockquote", "ul", "ol", "li", "code", "pre", "s"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"

_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    .disable(["image", "heading", "lheading", "hr", "html_block", "html_inline", "reference"])
    .enable(["strikethrough"])
)


def render_markdown(text: str) -> str:
    """Render a reply body to sanitised HTML."""
    return sanitise(_markdown.render(text))


# Built once: nh3.clean() rebuilds its allow-lists on every call, three times the cost of the
# cleaning itself for a short reply (it counts when an import renders 100,000 of them).
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=ALLOWED_URL_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)


def sanitise(html: str) -> str:
    return _cleaner.clean(html).strip()


def count_links(text: str) -> int:
    """Links a reader would see: Markdown links and bare web addresses."""
    # A Markdown link needs "[" (or "<" for an autolink); most replies have neither, and the
    # parse is then spared (it runs twice per post: the link check and the spam model).
    tokens = _markdown.parseInline(text) if "[" in text or "<" in text else []
    count = 0
    for block in tokens:
        for child in block.children or []:
            if child.type == "link_open":
                count += 1
    lowered = text.lower()
    bare = lowered.count("http://") + lowered.count("https://") + lowered.count("www.")
    return max(count, bare)
