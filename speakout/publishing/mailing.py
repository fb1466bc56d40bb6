"""A report as an email: its whole text and pictures, for the subscribers' mails.

The body is rendered once, when the report is announced, into an HTML fragment and a plain-text
version (``mail_parts``); the subscriptions app puts them in its layout. Every address in it is
made absolute on the site's own origin (``SPEAKOUT_BASE_URL``); a picture whose file is served
from anywhere else is left out and its alt text shown instead, so opening the mail loads nothing
from another origin. Rich text goes through nh3 with a small allow-list of tags, as for replies.
Media links stay plain links. No address carries anything that tells who opened or clicked.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import nh3
from bs4 import BeautifulSoup
from django.conf import settings
from django.template.loader import render_to_string
from wagtail.rich_text import expand_db_html

MAIL_TAGS = {"a", "p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "sup", "sub"}
IMAGE_FILTER = "max-1200x1200"


def origin() -> str:
    return settings.BASE_URL.rstrip("/")


def absolute(url: str) -> str:
    """``url`` made absolute against the site's address (a relative rich-text link or media URL)."""
    return urljoin(origin() + "/", (url or "").strip())


def on_own_origin(url: str) -> bool:
    own, other = urlsplit(origin()), urlsplit(url)
    return (other.scheme, other.netloc) == (own.scheme, own.netloc)


def _absolute_links(element: str, attribute: str, value: str) -> str | None:
    if element == "a" and attribute == "href":
        return absolute(value)
    return value


_cleaner = nh3.Cleaner(
    tags=MAIL_TAGS,
    attributes={"a": {"href"}},
    attribute_filter=_absolute_links,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener",
)


def rich_text(stored: str) -> str:
    """Stored Wagtail rich text as mail HTML: page and document links expanded and absolute."""
    return _cleaner.clean(expand_db_html(stored))


def image(value) -> dict:
    """A picture block for the mail: its rendition's absolute address if it is on our origin."""
    rendition = value["image"].get_rendition(IMAGE_FILTER)
    url = absolute(rendition.url)
    return {
        "src": url if on_own_origin(url) else "",
        "width": min(rendition.width, 600),
        "alt": value.get("alt_text", ""),
        "caption": value.get("caption", ""),
        "credit": value.get("credit", ""),
    }


def blocks_of(report) -> list[dict]:
    """The body and notes as a list of simple parts both templates render."""
    parts: list[dict] = []
    for block in report.body:
        kind, value = block.block_type, block.value
        if kind == "heading":
            parts.append({"kind": "heading", "text": value["text"]})
        elif kind == "paragraph":
            parts.append({"kind": "paragraph", "html": rich_text(value.source)})
        elif kind == "quote":
            parts.append({"kind": "quote", "text": value["quote"], "attribution": value.get("attribution", "")})
        elif kind == "image":
            parts.append({"kind": "image", **image(value)})
        elif kind == "media_link":
            parts.append(
                {
                    "kind": "media_link",
                    "url": absolute(value["url"]),
                    "title": value["title"],
                    "description": value.get("description", ""),
                }
            )
    for number, block in enumerate(report.notes, start=1):
        parts.append({"kind": "note", "number": number, "html": rich_text(block.value["text"].source)})
    return parts


def html_to_text(fragment: str) -> str:
    """Mail rich text as plain text: paragraphs and list items on their own lines, each link's
    address written after its words."""
    soup = BeautifulSoup(fragment, "html.parser")
    for link in soup.find_all("a"):
        href = link.get("href", "")
        words = link.get_text()
        link.replace_with(f"{words} <{href}>" if href and href != words else words)
    for item in soup.find_all("li"):
        item.insert_before("\n* ")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for paragraph in soup.find_all(["p", "ul", "ol"]):
        paragraph.insert_after("\n\n")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def mail_parts(report) -> dict[str, str]:
    """The report's content for mail: ``{"html": fragment, "text": plain text}``."""
    context = {
        "report": report,
        "blocks": blocks_of(report),
        "authors": ", ".join(author.name for author in report.authors),
    }
    for part in context["blocks"]:
        if "html" in part:
            part["text"] = html_to_text(part["html"])
    return {
        "html": render_to_string("publishing/email/_report_content.html", context).strip(),
        "text": render_to_string("publishing/email/_report_content.txt", context).strip(),
    }
