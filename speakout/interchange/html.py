"""WordPress HTML → the blocks of a report's body.

WordPress stores a post as loosely structured HTML: paragraphs are blank lines (its ``wpautop``
adds the ``<p>`` tags when a page is shown), the block editor leaves ``<!-- wp:... -->``
comments, and old posts carry any markup an editor ever pasted. We add the paragraphs, drop
the comments, read the result with BeautifulSoup and keep only what the report's blocks can
hold: headings, paragraphs and lists (rich text limited to the editor's features, cleaned by
nh3), quotes, images and media links. Everything else is reduced to its text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from html import escape

import nh3
from bs4 import BeautifulSoup, Comment, NavigableString, Tag

_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.S)
_MORE = re.compile(r"<!--\s*(more|nextpage|noteaser)\b.*?-->", re.S | re.I)
_BLANK_LINES = re.compile(r"\n\s*\n")
_BLOCK_TAGS = (
    "address|article|aside|blockquote|dd|div|dl|dt|figcaption|figure|footer|form|h[1-6]|header|hr|li|"
    "main|nav|ol|p|pre|section|table|tbody|td|tfoot|th|thead|tr|ul|iframe|video|audio|object|embed|"
    "details|summary"
)
_BLOCK_NAMES = frozenset(_BLOCK_TAGS.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|"))
# Any opening or closing tag; whether it is a block is a set lookup, far cheaper than a regular
# expression alternating over every block tag at each position (it mattered for 100,000 replies).
_OPEN_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]*)(?=[\s/>])")
_CLOSE_TAG = re.compile(r"</([A-Za-z][A-Za-z0-9]*)>")
_STARTS_WITH_BLOCK = re.compile(rf"^\s*</?({_BLOCK_TAGS})\b", re.I)
_ENDS_WITH_BLOCK = re.compile(rf"</?({_BLOCK_TAGS})\b[^>]*>\s*$", re.I)

# Only what the editor's rich text features allow; links keep their address only.
_rich_text_cleaner = nh3.Cleaner(
    tags={"b", "i", "a", "ol", "ul", "li", "sup", "sub", "br"},
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    link_rel=None,
    strip_comments=True,
)
_INLINE_RENAME = {"strong": "b", "em": "i", "cite": "i", "dfn": "i", "var": "i"}
_HEADINGS = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h3", "h5": "h3", "h6": "h3"}
_CONTAINERS = set(
    "div section article main header footer aside nav figure details center form dl tbody thead tfoot".split()
)
_DROP = {"script", "style", "noscript", "template", "hr", "button", "input", "select", "textarea"}
_MEDIA = {"iframe": "video", "video": "video", "audio": "audio", "embed": "other", "object": "other"}
# Elements read as blocks of their own; any other element is inline unless it holds one of _HOLDS_BLOCKS.
_BLOCK_ELEMENTS = {*_HEADINGS, *_MEDIA, *_CONTAINERS, *"p ul ol blockquote pre img table figcaption".split()}
_HOLDS_BLOCKS = ["img", "p", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "figure"]


def _before_block(match: re.Match) -> str:
    return "\n\n" + match[0] if match[1].lower() in _BLOCK_NAMES else match[0]


def _after_block(match: re.Match) -> str:
    return match[0] + "\n\n" if match[1].lower() in _BLOCK_NAMES else match[0]


def autop(html: str) -> str:
    """Blank lines → paragraphs and single newlines → line breaks, as WordPress shows a post."""
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    if "<!--" in html:
        html = _MORE.sub("", _BLOCK_COMMENT.sub("", html))
    if "<" in html:
        # Like wpautop: block-level tags stand apart, so text beside them becomes its own paragraph.
        html = _OPEN_TAG.sub(_before_block, html)
        html = _CLOSE_TAG.sub(_after_block, html)
    out = []
    for chunk in _BLANK_LINES.split(html.strip()):
        chunk = chunk.strip()
        if not chunk:
            continue
        if _STARTS_WITH_BLOCK.match(chunk) or (chunk.endswith(">") and _ENDS_WITH_BLOCK.search(chunk)):
            out.append(chunk)
        else:
            out.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


class BodyConverter:
    """Turns one post's HTML into StreamField data. ``image_for(url)`` returns an imported
    image for an attachment address (or None), ``url_map`` rewrites links to imported files."""

    def __init__(self, image_for: Callable[[str], object | None] | None = None, url_map: dict | None = None):
        self.image_for = image_for or (lambda url: None)
        self.url_map = url_map or {}

    def convert(self, html: str) -> list[dict]:
        self.blocks: list[dict] = []
        self.inline: list[str] = []
        soup = BeautifulSoup(autop(html or ""), "html.parser")
        self._walk(soup)
        self._flush()
        return self.blocks

    # -- walking --------------------------------------------------------------------------
    def _walk(self, node) -> None:
        for child in list(node.children):
            if isinstance(child, Tag):
                self._element(child)
            elif isinstance(child, Comment):
                continue
            elif str(child).strip():  # text
                self.inline.append(escape(str(child)))
            elif self.inline:
                self.inline.append(" ")

    def _element(self, tag: Tag) -> None:
        name = tag.name.lower()
        if name in _DROP:
            return
        if name not in _BLOCK_ELEMENTS and not tag.find(_HOLDS_BLOCKS):
            self.inline.append(str(self._rewrite(tag)))
            return
        self._flush()
        if name in _HEADINGS:
            heading = tag.get_text(" ", strip=True)
            if heading:
                self.blocks.append({"type": "heading", "value": {"text": heading[:200], "level": _HEADINGS[name]}})
        elif name == "p":
            self._paragraph(tag)
            self._flush()
        elif name in ("ul", "ol"):
            self._rich(str(self._rewrite(tag)))
        elif name == "blockquote":
            cite = tag.find("cite")
            attribution = cite.extract().get_text(" ", strip=True) if cite else ""
            quote = "\n\n".join(p.get_text(" ", strip=True) for p in tag.find_all("p")) or tag.get_text(" ", strip=True)
            if quote:
                self.blocks.append({"type": "quote", "value": {"quote": quote, "attribution": attribution[:200]}})
        elif name == "pre":
            lines = [escape(line) for line in tag.get_text().splitlines()]
            if any(line.strip() for line in lines):
                self._rich("<p>" + "<br>".join(lines) + "</p>")
        elif name == "img":
            self._image(tag)
        elif name in _MEDIA:
            inner = tag.find("source")
            source = str(tag.get("src") or tag.get("data") or (inner.get("src") if inner else "") or "")
            if source.startswith(("http://", "https://")):
                title = (tag.get("title") or os.path.basename(source.rstrip("/")) or source)[:200]
                value = {"url": source, "title": title, "description": "", "kind": _MEDIA[name]}
                self.blocks.append({"type": "media_link", "value": value})
        elif name == "table":
            for row in tag.find_all("tr"):
                cells = [escape(cell.get_text(" ", strip=True)) for cell in row.find_all(["td", "th"])]
                if any(cells):
                    self._rich("<p>" + " · ".join(cells) + "</p>")
        else:
            # A container, or an inline element wrapping block content (a link around an image, say).
            self._walk(tag)
            self._flush()

    def _paragraph(self, tag: Tag) -> None:
        for image in tag.find_all("img"):
            image_block = self._image_block(image)
            if image_block:
                self._flush()
                self.blocks.append(image_block)
                (image.parent if image.parent and image.parent.name == "a" else image).extract()
            else:
                image.replace_with(self._image_link(image))
        for child in list(tag.children):
            if isinstance(child, Tag) and child.name in _MEDIA:
                self._flush()
                self._element(child)
            elif isinstance(child, Comment) or (isinstance(child, Tag) and child.name in _DROP):
                continue
            elif isinstance(child, NavigableString):
                self.inline.append(escape(str(child)))
            else:
                self.inline.append(str(self._rewrite(child)))

    def _image(self, tag: Tag) -> None:
        block = self._image_block(tag)
        if block:
            self.blocks.append(block)
        else:
            self._rich("<p>" + str(self._image_link(tag)) + "</p>")

    def _image_block(self, tag: Tag) -> dict | None:
        src = str(tag.get("src") or "")
        image = self.image_for(src) if src else None
        if image is None:
            return None
        alt = str(tag.get("alt") or "").strip() or getattr(image, "title", "") or os.path.basename(src)
        caption = ""
        figure = tag.find_parent("figure")
        if figure is not None and figure.find("figcaption"):
            caption = figure.find("figcaption").get_text(" ", strip=True)
            figure.find("figcaption").decompose()
        return {
            "type": "image",
            "value": {"image": image.pk, "alt_text": alt[:300], "caption": caption[:300], "credit": ""},
        }

    def _image_link(self, tag: Tag):
        """An image we could not import stays reachable as a link to its old address."""
        src = str(tag.get("src") or "")
        label = str(tag.get("alt") or "").strip() or os.path.basename(src.split("?")[0]) or src
        if not src:
            return NavigableString(label)
        soup = BeautifulSoup("", "html.parser")
        link = soup.new_tag("a", href=self.url_map.get(src, src))
        link.string = label
        return link

    def _rewrite(self, tag: Tag) -> Tag:
        for element in [tag, *tag.find_all(True)]:
            if element.name == "a" and element.get("href") in self.url_map:
                element["href"] = self.url_map[element["href"]]
            element.name = _INLINE_RENAME.get(element.name, element.name)
        return tag

    # -- output ---------------------------------------------------------------------------
    def _flush(self) -> None:
        if not self.inline:
            return
        html = "".join(self.inline).strip()
        self.inline = []
        # Line breaks at either end of a paragraph carry nothing.
        html = re.sub(r"^(\s*<br\s*/?>\s*)+|(\s*<br\s*/?>\s*)+$", "", html)
        if html:
            self._rich(f"<p>{html}</p>")

    def _rich(self, html: str) -> None:
        cleaned = _rich_text_cleaner.clean(html).strip()
        if re.sub(r"<[^>]+>|\s|&nbsp;", "", cleaned):
            if not cleaned.startswith(("<p>", "<ul>", "<ol>")):
                cleaned = f"<p>{cleaned}</p>"
            self.blocks.append({"type": "paragraph", "value": cleaned})


def html_to_text(html: str) -> str:
    """Plain text of a fragment (excerpts become a report's standfirst)."""
    if not html or not html.strip():
        return ""
    return BeautifulSoup(autop(html or ""), "html.parser").get_text(" ", strip=True)


def convert_body(html: str, **kwargs) -> list[dict]:
    return BodyConverter(**kwargs).convert(html)
