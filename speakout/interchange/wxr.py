"""WordPress eXtended RSS (WXR 1.0, 1.1 and 1.2), read as a stream.

Channel-level authors, categories, tags and terms come first in a WordPress export; each
``<item>`` (a post, page or attachment with its comments) is handled and freed as soon as it is
complete, so memory holds one item at a time.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from taggit.models import Tag

from speakout.discussion.models import Reply

from .dates import parse_rfc822, parse_wp
from .errors import ImportFailed
from .importers import Importer
from .media import SIZE_SUFFIX
from .models import ImportedItem
from .replies import CommentData
from .reply_source import source_from_meta
from .writer import PostData
from .wxr_export import AUTHORS_KEY
from .xmlstream import CountingReader, children, first_texts, stream, text

_VERSION = re.compile(r"^1\.[0-2]$")
COMMENT_STATUS = {
    "1": Reply.Status.APPROVED,
    "approve": Reply.Status.APPROVED,
    "approved": Reply.Status.APPROVED,
    "0": Reply.Status.PENDING,
    "hold": Reply.Status.PENDING,
    "spam": Reply.Status.SPAM,
    "trash": Reply.Status.TRASH,
    "post-trashed": Reply.Status.TRASH,
}
COMMENT_KIND = {"pingback": Reply.Kind.PINGBACK, "trackback": Reply.Kind.TRACKBACK}
POST_TYPES = {"post": ImportedItem.Kind.REPORT, "page": ImportedItem.Kind.PAGE}
# Statuses of posts nobody outside may read (imported as drafts); their attachments stay private.
NOT_PUBLIC = ("draft", "pending", "private", "future")
# A category's slug, name, parent and description, as <wp:category> and as <wp:term> write them.
CATEGORY_KEYS = ("wp:category_nicename", "wp:cat_name", "wp:category_parent", "wp:category_description")
TERM_KEYS = ("wp:term_slug", "wp:term_name", "wp:term_parent", "wp:term_description")
TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length
TAG_CUT = gettext_lazy("the tag “%(value)s” was cut to %(max)s characters")


class WXRImporter(Importer):
    format = "wxr"
    label = "WordPress (WXR)"

    @classmethod
    def detect(cls, peek: bytes) -> bool:
        return b"<rss" in peek and re.search(rb"wordpress\.(org|com)/export", peek) is not None

    @classmethod
    def media_urls(cls, path) -> list[str]:
        """Every attachment's address, then every image address in the posts' bodies."""
        from bs4 import BeautifulSoup

        attachments: dict[str, None] = {}
        images: dict[str, None] = {}
        with open(path, "rb") as handle:
            for name, element in stream(handle, depth=2):
                if name != "item":
                    continue
                fields = first_texts(element)
                if fields.get("wp:post_type", "").strip() == "attachment":
                    url = fields.get("wp:attachment_url", "").strip() or fields.get("guid", "").strip()
                    if url.startswith(("http://", "https://")):
                        attachments[url] = None
                body = fields.get("content:encoded", "")
                if "<img" in body:
                    for image in BeautifulSoup(body, "html.parser").find_all("img"):
                        src = str(image.get("src") or "").strip().split("?")[0]
                        if src.startswith(("http://", "https://")):
                            images[src] = None
        # A resized copy of an attachment is made from the attachment's own file.
        return list(attachments) + [
            url for url in images if url not in attachments and SIZE_SUFFIX.sub("", url) not in attachments
        ]

    def run(self) -> None:
        self.version = ""
        self.channel: dict[str, str] = {}
        self.seen_posts: set[str] = set()
        self.client_data_seen = False  # a comment's IP address or browser, which is never stored
        # WordPress 2.x wrote WXR 1.0 without a version tag; its namespace says the version.
        with open(self.path, "rb") as handle:
            peek = handle.read(8192)
        self.implied_version = "1.0" if re.search(rb"wordpress\.org/export/1\.0/", peek) else ""
        if self.writer.media_dir is not None or self.writer.use_fetched:
            self._import_media()
        with open(self.path, "rb") as handle:
            reader = CountingReader(handle)
            for name, element in stream(reader, depth=2):
                self._channel_child(name, element)
                self.moved(reader.position)
        if not self.version:
            raise ImportFailed(_("This is not a WordPress export: it has no WXR version (wp:wxr_version)."))
        if self.client_data_seen:
            self.result.note(
                _("replies"),
                _("their IP addresses and browsers (user agents) were not imported: Speakout keeps neither"),
            )

    # -- channel --------------------------------------------------------------------------
    def _channel_child(self, name: str, element) -> None:
        if name == "wp:wxr_version":
            self.version = text(element).strip()
            if not _VERSION.match(self.version):
                raise ImportFailed(
                    _("Unsupported WXR version “%(version)s”: WXR 1.0, 1.1 and 1.2 can be imported.")
                    % {"version": self.version[:20]}
                )
            return
        if name in ("title", "link", "wp:base_site_url", "wp:base_blog_url"):
            self.channel.setdefault(name, text(element).strip())
            return
        if name in ("wp:author", "wp:category", "wp:tag", "wp:term", "item"):
            if not self.version and self.implied_version:
                self.version = self.implied_version
                self.result.note(_("version"), _("no version tag; read as WXR 1.0 (a WordPress 2 export)"))
            if not self.version:
                raise ImportFailed(_("This is not a WordPress export: it has no WXR version (wp:wxr_version)."))
            self._ensure_source()
        if name == "wp:author":
            self._author(first_texts(element))
        elif name in ("wp:category", "wp:term"):
            self._term(name, first_texts(element))
        elif name == "wp:tag":
            self.result.count("tag", "seen")
        elif name == "item":
            self._item(element)

    def _term(self, name: str, fields: dict[str, str]) -> None:
        taxonomy = "category" if name == "wp:category" else fields.get("wp:term_taxonomy", "")
        if taxonomy == "category":
            keys = CATEGORY_KEYS if name == "wp:category" else TERM_KEYS
            slug, label, parent, description = (fields.get(key, "") for key in keys)
            self.writer.category(slug, unescape(label), parent, unescape(description))
        elif taxonomy == "post_tag":
            self.result.count("tag", "seen")
        else:
            self.result.skip(
                _("term %(slug)s") % {"slug": fields.get("wp:term_slug", "")},
                _("the taxonomy “%(taxonomy)s” has no equivalent here") % {"taxonomy": taxonomy},
            )

    def _ensure_source(self) -> None:
        if not self.writer.source:
            base = (
                self.channel.get("wp:base_blog_url") or self.channel.get("link") or self.channel.get("title") or ""
            ).rstrip("/")
            self.writer.source = f"wordpress:{base}"[:300]
            self.writer.site_title = self.channel.get("title", "")[:255]

    def _author(self, fields: dict[str, str]) -> None:
        login = fields.get("wp:author_login", "").strip()
        # WordPress keeps names and term names as HTML (it escapes them when they are saved).
        name = unescape(fields.get("wp:author_display_name", "")).strip() or " ".join(
            part for part in (fields.get("wp:author_first_name", ""), fields.get("wp:author_last_name", "")) if part
        )
        if not login:
            self.result.skip(_("an author"), _("it has no login name"))
            return
        self.writer.author(login, name or login, data={"email": fields.get("wp:author_email", "")})

    # -- items ----------------------------------------------------------------------------
    def _item(self, element) -> None:
        fields = first_texts(element)
        post_id = fields.get("wp:post_id", "").strip()
        post_type = fields.get("wp:post_type", "").strip()
        title = fields.get("title", "")
        what = _("“%(title)s” (id %(id)s)") % {"title": title[:80], "id": post_id or "?"}
        comments = list(self._comments(element))
        if not post_id or not post_type:
            return self._skip(what, _("it has no WordPress post id or type"), comments)
        if post_type == "attachment":
            self.result.count("attachment", "seen")
            return
        kind = POST_TYPES.get(post_type)
        if kind is None:
            reason = _("the post type “%(type)s” has no equivalent here") % {"type": post_type}
            return self._skip(what, reason, comments)
        key = f"{post_type}:{post_id}"
        if key in self.seen_posts:
            return self._skip(what, _("the same post id appears earlier in the file"), comments)
        self.seen_posts.add(key)
        status = fields.get("wp:status", "publish").strip() or "publish"
        if status in ("trash", "auto-draft", "inherit"):
            reason = {
                "trash": _("it is in WordPress's trash"),
                "auto-draft": _("it is an automatic draft nobody saved"),
                "inherit": _("it is a revision"),
            }[status]
            return self._skip(what, reason, comments)
        date = (
            parse_wp(fields.get("wp:post_date_gmt", ""), utc=True)
            or parse_rfc822(fields.get("pubDate", ""))
            or parse_wp(fields.get("wp:post_date", ""), utc=False)
        )
        terms_categories, tags = [], []
        for name, child in children(element):
            if name != "category":
                continue
            domain = child.get("domain", "")
            if domain == "category":
                slug = child.get("nicename", "") or text(child)
                category = self.writer.category(slug, unescape(text(child)))
                if category is not None:
                    terms_categories.append(category.slug)
            elif domain in ("post_tag", "tag"):
                label = unescape(text(child)).strip()
                if label:
                    tags.append(self.result.cut(what, label, TAG_MAX_LENGTH, TAG_CUT))
        link = fields.get("link", "").strip()
        post_name = fields.get("wp:post_name", "").strip()
        query = "page_id" if post_type == "page" else "p"
        old_links = [link, f"/?{query}={post_id}"]  # an empty one makes no redirect
        guid = fields.get("guid", "")
        if "?" in guid and urlsplit(guid).query and urlsplit(guid).query != f"{query}={post_id}":
            old_links.append(guid)
        if post_name:
            old_links.append(f"/{post_name}/")
        creator = fields.get("dc:creator", "").strip()
        if creator and creator not in self.writer.authors:
            self.writer.author(creator, creator)
        authors = self._bylines(_meta(element, "wp:postmeta").get(AUTHORS_KEY, "")) or ([creator] if creator else [])
        live = status == "publish"
        password = fields.get("wp:post_password", "")
        post = PostData(
            source_id=post_id,
            kind=kind,
            title=title,
            slug=post_name,
            date=date,
            live=live,
            go_live_at=date if status == "future" else None,
            body_html=fields.get("content:encoded", ""),
            excerpt=fields.get("excerpt:encoded", ""),
            authors=authors,
            categories=list(dict.fromkeys(terms_categories)),
            tags=list(dict.fromkeys(tags)),
            old_links=old_links,
            replies_open=fields.get("wp:comment_status", "open").strip() != "closed",
            parent_source_id=fields.get("wp:post_parent", "").strip(),
            data={
                "post_id": post_id,
                "status": status,
                "sticky": fields.get("wp:is_sticky", "0").strip() == "1",
                "link": link,
                "menu_order": fields.get("wp:menu_order", "0").strip(),
                "password": bool(password),
            },
        )
        if status in NOT_PUBLIC:
            self.result.note(what, _("kept as a draft (it was “%(status)s” in WordPress)") % {"status": status})
        page = self.writer.save_post(post)
        if page is None:
            return
        if password and live:
            self.writer.restrict_with_password(page, password)
        if comments:
            thread = self.writer.thread_for_page(page)
            self.writer.save_replies(thread, comments, prefix="wp:")

    def _bylines(self, value: str) -> list[str]:
        """Every byline of a report, from the post meta Speakout's own export writes."""
        try:
            pairs = json.loads(value) if value else []
            bylines = [(str(login), str(name)) for login, name in pairs]
        except (ValueError, TypeError):
            return []
        for login, name in bylines:
            if login and login not in self.writer.authors:
                self.writer.author(login, name)
        return [login for login, _name in bylines if login in self.writer.authors]

    def _skip(self, what: str, reason: str, comments: list) -> None:
        self.result.skip(what, reason)
        if comments:
            self.result.skip(
                ngettext("%(count)s reply to %(what)s", "%(count)s replies to %(what)s", len(comments))
                % {"count": len(comments), "what": what},
                _("their post was skipped"),
            )

    def _comments(self, element):
        for name, child in children(element):
            if name != "wp:comment":
                continue
            fields = first_texts(child)
            approved = fields.get("wp:comment_approved", "1").strip()
            status = COMMENT_STATUS.get(approved)
            comment_id = fields.get("wp:comment_id", "").strip()
            if status is None:
                self.result.note(
                    _("reply %(id)s") % {"id": comment_id},
                    _("unknown status “%(status)s”; held for moderation") % {"status": approved[:20]},
                )
                status = Reply.Status.PENDING
            self.client_data_seen = self.client_data_seen or bool(
                fields.get("wp:comment_author_IP", "").strip() or fields.get("wp:comment_agent", "").strip()
            )
            content = fields.get("wp:comment_content", "")
            # Speakout's own export keeps the reply's text beside the HTML WordPress shows.
            source = source_from_meta(content, _meta(child, "wp:commentmeta"))
            yield CommentData(
                source_id=comment_id,
                parent_id=fields.get("wp:comment_parent", "").strip(),
                # WordPress keeps a comment author's name as HTML (its comment form escapes it).
                author_name=unescape(fields.get("wp:comment_author", "")).strip(),
                email=fields.get("wp:comment_author_email", ""),
                website=fields.get("wp:comment_author_url", ""),
                created_at=parse_wp(fields.get("wp:comment_date_gmt", ""), utc=True)
                or parse_wp(fields.get("wp:comment_date", ""), utc=False),
                body=content if source is None else source,
                html=None if source is None else content,
                status=status,
                kind=COMMENT_KIND.get(fields.get("wp:comment_type", "").strip(), Reply.Kind.REPLY),
            )

    # -- media ----------------------------------------------------------------------------
    def _import_media(self) -> None:
        """A first pass for attachments, so that bodies can point at the imported files. The
        attachments of a post nobody outside may read are kept private, and those of a post behind
        a password get names nobody can guess; WordPress often writes an attachment before its
        post, so the statuses and passwords are gathered first."""
        statuses: dict[str, str] = {}
        behind_password: set[str] = set()
        attachments: list[tuple[str, str, str, str]] = []
        with open(self.path, "rb") as handle:
            for name, element in stream(handle, depth=2):
                if name in ("title", "link", "wp:base_site_url", "wp:base_blog_url"):
                    self.channel.setdefault(name, text(element).strip())
                elif name == "item":
                    fields = first_texts(element)
                    post_id = fields.get("wp:post_id", "").strip()
                    if fields.get("wp:post_type", "").strip() == "attachment":
                        url = fields.get("wp:attachment_url", "").strip() or fields.get("guid", "").strip()
                        attachments.append((post_id, url, fields.get("title", ""), fields.get("wp:post_parent", "")))
                    elif post_id:
                        statuses[post_id] = fields.get("wp:status", "publish").strip()
                        if fields.get("wp:post_password", ""):
                            behind_password.add(post_id)
        if attachments:
            self._ensure_source()
        for post_id, url, title, parent in attachments:
            private = statuses.get(parent.strip(), "") in NOT_PUBLIC
            self.writer.attachment(post_id, url, title, private=private, unlisted=parent.strip() in behind_password)


def _meta(element, name: str) -> dict[str, str]:
    meta = {}
    for child_name, child in children(element):
        if child_name == name:
            fields = first_texts(child)
            meta.setdefault(fields.get("wp:meta_key", ""), fields.get("wp:meta_value", ""))
    return meta
