"""A reply's own text, carried through WordPress beside the HTML WordPress shows.

WordPress keeps a comment as HTML. The WXR export writes what Speakout shows (the sanitised HTML)
as ``comment_content`` and the text the commenter wrote (Markdown, or the HTML of an earlier
import) as comment meta, with a digest of the HTML it went with. WordPress's importer and exporter
carry comment meta unchanged, so a file that comes back gives the reply its own text again; if
the comment was edited in WordPress meanwhile, the digest no longer matches and the edited HTML
wins.
"""

from __future__ import annotations

import hashlib

# A leading underscore hides the keys from WordPress's custom fields box.
SOURCE_KEY = "_speakout_source"
HTML_DIGEST_KEY = "_speakout_html_sha256"
# WordPress's importer unserializes every meta value that looks like PHP serialized data
# (maybe_unserialize), so a reply written as `O:8:"Gadget":…` would become a PHP object there.
# A value whose second character is not a colon never looks serialized.
SOURCE_PREFIX = "speakout:"


def html_digest(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


def source_meta(body: str, body_html: str) -> dict[str, str]:
    return {SOURCE_KEY: SOURCE_PREFIX + body, HTML_DIGEST_KEY: html_digest(body_html)}


def source_from_meta(content: str, meta: dict[str, str]) -> str | None:
    """The reply's own text if ``content`` is still the HTML exported with it, else None."""
    source = meta.get(SOURCE_KEY)
    if source is None or not source.startswith(SOURCE_PREFIX) or meta.get(HTML_DIGEST_KEY) != html_digest(content):
        return None
    return source.removeprefix(SOURCE_PREFIX)
