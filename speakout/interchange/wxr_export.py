"""Write the site as WXR 1.2, the file WordPress's own importer reads.

Posts are reports, pages are standard pages, authors and terms come first as WordPress writes
them, and each item carries its replies with their parent ids, statuses and kinds. Bodies are
written as plain HTML (internal links expanded to addresses); text goes into CDATA sections
like WordPress's exporter does, so its regular-expression fallback parser reads them too.

WordPress's importer runs as an administrator and stores every field without filtering, and
WordPress prints titles, excerpts, post and comment content, term names and comment author names
as HTML. So plain text (a title, a name) is written HTML-escaped, post bodies pass an allow-list,
and a reply is written as the sanitised HTML Speakout shows, its own text kept in comment meta
(see ``reply_source``).

External threads (Disqus or Isso threads that match no page) have no place in WXR; the JSON
export carries them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC
from html import escape

import nh3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from taggit.models import Tag
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.rich_text import expand_db_html

from speakout.discussion.models import ModerationLogEntry, Reply, Thread
from speakout.publishing.models import Author, Category, ReportPage, StandardPage

from .export_report import ExportReport, wordpress_accepts_email
from .models import ImportedItem
from .reply_source import source_meta

STATUS_OUT = {
    Reply.Status.APPROVED: "1",
    Reply.Status.PENDING: "0",
    Reply.Status.SPAM: "spam",
    Reply.Status.TRASH: "trash",
}
# Post meta naming every byline of a report, in order (WordPress has one author per post): a
# JSON list of [login, name], so that a byline WordPress's own export leaves out of its author
# list (it lists only post authors) keeps its name.
AUTHORS_KEY = "_speakout_authors"
NO_DATE = "0000-00-00 00:00:00"  # how WordPress writes "no date"
# What a login may hold in WordPress (sanitize_user in strict mode).
_NOT_IN_LOGIN = re.compile(r"[^a-z0-9 _.@-]", re.I)


# Characters XML 1.0 cannot carry at all, not even in a CDATA section.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

# What a report's body may hold in WordPress: the blocks' own markup, nothing that runs.
_body_cleaner = nh3.Cleaner(
    tags={"p", "br", "b", "strong", "i", "em", "a", "ol", "ul", "li", "sup", "sub", "h2", "h3", "h4"}
    | {"blockquote", "cite", "figure", "figcaption", "img"},
    attributes={"a": {"href"}, "img": {"src", "alt"}},
    url_schemes={"http", "https", "mailto"},
    link_rel=None,
    strip_comments=True,
)


def xml_safe(value) -> str:
    return _NOT_IN_XML.sub("", "" if value is None else str(value))


def cdata(value) -> str:
    return "<![CDATA[" + xml_safe(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def html_text(value) -> str:
    """Plain text for a field WordPress prints as HTML: it shows as the same text there."""
    return escape(xml_safe(value))


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else NO_DATE


def _gmt(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else NO_DATE


def _rfc822(moment) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000") if moment else ""


def body_html(stream) -> str:
    """A StreamField body as the HTML WordPress keeps in post_content."""
    parts = []
    for block in stream or []:
        value = block.value
        if block.block_type == "heading":
            parts.append(format_html("<{0}>{1}</{0}>", value["level"], value["text"]))
        elif block.block_type == "paragraph":
            parts.append(expand_db_html(value.source))
        elif block.block_type == "quote":
            cite = format_html("<cite>{}</cite>", value["attribution"]) if value["attribution"] else ""
            parts.append(format_html("<blockquote><p>{}</p>{}</blockquote>", value["quote"], cite))
        elif block.block_type == "image":
            image = value["image"]
            src = image.file.url if image else ""
            caption = format_html("<figcaption>{}</figcaption>", value["caption"]) if value["caption"] else ""
            parts.append(format_html('<figure><img src="{}" alt="{}">{}</figure>', src, value["alt_text"], caption))
        elif block.block_type == "media_link":
            parts.append(format_html('<p><a href="{}">{}</a></p>', value["url"], value["title"]))
    return _body_cleaner.clean("\n\n".join(str(part) for part in parts))


REPLY_FIELDS = (
    "pk",
    "author_name",
    "commenter__email",
    "author_website",
    "created_at",
    "body",
    "body_html",
    "status",
    "kind",
    "parent_id",
    "user_id",
)


class WXRWriter:
    def __init__(self, out):
        self.out = out
        self.items = 0
        self.replies = 0
        self.report = ExportReport()
        # Replies written under another number than their id (see comments()): id → number.
        self.comment_numbers: dict[int, int] = {}
        self.byline_logins: dict[int, str] = {}
        self.account_logins: dict[int, str] = {}
        self.account_offset = 0
        self._logins: set[str] = set()

    def w(self, text: str) -> None:
        self.out.write(text)

    def tag(self, name: str, value, raw: bool = False) -> None:
        self.w(f"\t\t<{name}>{value if raw else cdata(value)}</{name}>\n")

    def meta(self, element: str, items: dict[str, str], indent: str = "\t\t") -> None:
        for key, value in items.items():
            self.w(
                f"{indent}<wp:{element}>\n{indent}\t<wp:meta_key>{cdata(key)}</wp:meta_key>\n"
                f"{indent}\t<wp:meta_value>{cdata(value)}</wp:meta_value>\n{indent}</wp:{element}>\n"
            )

    # -- authors ----------------------------------------------------------------------------
    def _authors(self) -> None:
        """Bylines, then the accounts that signed replies or own pages, each under an id of its own.

        WordPress's importer credits a post (dc:creator) by login and a comment (comment_user_id)
        by an author id of this list, which is all it maps: any other number is kept as it is
        and names whoever has that id there. Speakout does not tie bylines to accounts, so an
        account that also writes reports is two authors here (the importer can map both to one
        WordPress user).
        """
        bylines = list(Author.objects.order_by("pk"))
        self.account_offset = max((author.pk for author in bylines), default=0)
        for author in bylines:
            login = self._login(author.slug, author.name)
            self.byline_logins[author.pk] = login
            self._author(author.pk, login, "", author.name)
        self.report.counts["byline"] = len(bylines)
        # "IS NOT NULL" as the partial index on the column says it (SQLite reads "NOT ... IS NULL"
        # as another condition and would read every reply).
        user_ids = set(Reply.objects.filter(user__isnull=False).values_list("user_id", flat=True).distinct())
        user_ids |= set(StandardPage.objects.exclude(owner=None).values_list("owner_id", flat=True))
        for user in get_user_model().objects.filter(pk__in=user_ids).order_by("pk"):
            name = user.get_full_name() or user.get_username()
            login = self._login(user.get_username(), name)
            self.account_logins[user.pk] = login
            if user.email and not wordpress_accepts_email(user.email):
                self.report.warn(
                    _("account %(login)s") % {"login": login},
                    _("WordPress refuses the address “%(email)s” and creates the user without one")
                    % {"email": user.email},
                )
            self._author(self.account_offset + user.pk, login, user.email, name)
            self.report.counts["account"] += 1

    def _login(self, wanted: str, name: str) -> str:
        """A login WordPress keeps as it is (its strict characters), unique in the file."""
        ascii_only = unicodedata.normalize("NFKD", wanted).encode("ascii", "ignore").decode()
        base = " ".join(_NOT_IN_LOGIN.sub("", ascii_only).split())[:50] or "author"
        login, number = base, 1
        while login.lower() in self._logins:
            number += 1
            login = f"{base}-{number}"
        self._logins.add(login.lower())
        if login != wanted:
            self.report.warn(
                _("author %(name)s") % {"name": name},
                _("login “%(wanted)s” written as “%(login)s” (WordPress logins are unique and ASCII)")
                % {"wanted": wanted, "login": login},
            )
        return login

    def _author(self, author_id: int, login: str, email: str, name: str) -> None:
        self.w("\t<wp:author>")
        self.w(f"<wp:author_id>{author_id}</wp:author_id>")
        self.w(f"<wp:author_login>{cdata(login)}</wp:author_login>")
        self.w(f"<wp:author_email>{cdata(email)}</wp:author_email>")
        self.w(f"<wp:author_display_name>{cdata(html_text(name))}</wp:author_display_name>")
        self.w("</wp:author>\n")

    def write(self) -> None:
        site = Site.objects.filter(is_default_site=True).first()
        self.any_restriction = PageViewRestriction.objects.exists()
        self.threads = dict(Thread.objects.values_list("key", "pk"))
        self.exported_threads: set[int] = set()
        # WordPress's importer inserts a post's comments in the order of their ids and finds a
        # parent only among those already inserted: a reply numbered below its parent gets a
        # fresh number above every reply's.
        self.next_free_number = Reply.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.moved_out = self._moved_out()
        base = settings.BASE_URL
        self.w('<?xml version="1.0" encoding="UTF-8" ?>\n')
        self.w('<!-- generator="Speakout" -->\n')
        self.w(
            '<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
        )
        self.w(f"\t<title>{html_text(site.site_name if site else settings.SITE_NAME)}</title>\n")
        self.w(f"\t<link>{escape(base)}</link>\n\t<description></description>\n")
        self.w(f"\t<pubDate>{_rfc822(timezone.now())}</pubDate>\n\t<language>{settings.LANGUAGE_CODE}</language>\n")
        self.w("\t<wp:wxr_version>1.2</wp:wxr_version>\n")
        self.w(f"\t<wp:base_site_url>{escape(base)}</wp:base_site_url>\n")
        self.w(f"\t<wp:base_blog_url>{escape(base)}</wp:base_blog_url>\n")
        self._authors()
        parents = {
            item.source_id: item.data.get("parent", "")
            for item in ImportedItem.objects.filter(kind=ImportedItem.Kind.CATEGORY).exclude(data={})
        }
        categories = list(Category.objects.order_by("pk"))
        known = {category.slug for category in categories}
        # WordPress wants a parent before its children.
        categories.sort(key=lambda category: parents.get(category.slug, "") in known)
        self.report.counts["category"] = len(categories)
        for category in categories:
            parent = parents.get(category.slug, "")
            self.w("\t<wp:category>")
            self.w(f"<wp:term_id>{category.pk}</wp:term_id>")
            self.w(f"<wp:category_nicename>{cdata(category.slug)}</wp:category_nicename>")
            self.w(f"<wp:category_parent>{cdata(parent if parent in known else '')}</wp:category_parent>")
            self.w(f"<wp:cat_name>{cdata(html_text(category.name))}</wp:cat_name>")
            if category.description:
                description = cdata(html_text(category.description))
                self.w(f"<wp:category_description>{description}</wp:category_description>")
            self.w("</wp:category>\n")
        for tag in Tag.objects.filter(speakout_publishing_reporttag_items__isnull=False).distinct().order_by("pk"):
            self.w(f"\t<wp:tag><wp:term_id>{tag.pk}</wp:term_id><wp:tag_slug>{cdata(tag.slug)}</wp:tag_slug>")
            self.w(f"<wp:tag_name>{cdata(html_text(tag.name))}</wp:tag_name></wp:tag>\n")
            self.report.counts["tag"] += 1
        extras = {
            (item.kind, item.object_id): item.data
            for item in ImportedItem.objects.filter(kind__in=[ImportedItem.Kind.REPORT, ImportedItem.Kind.PAGE])
        }
        reports = (
            ReportPage.objects.order_by("path")
            .prefetch_related("categories", "tagged_items__tag", "report_authors__author")
            .iterator(chunk_size=200)
        )
        for report in reports:
            self.item(report, "post", extras.get(("report", str(report.pk)), {}))
        root = site.root_page if site else None
        for page in StandardPage.objects.order_by("path").iterator(chunk_size=200):
            self.item(page, "page", extras.get(("page", str(page.pk)), {}), root=root)
        self.w("</channel>\n</rss>\n")
        self.report.counts["external_thread"] = Thread.objects.exclude(pk__in=self.exported_threads).count()

    def item(self, page: Page, post_type: str, extra: dict, root: Page | None = None) -> None:
        is_report = post_type == "post"
        date = getattr(page, "date", None) if is_report else None
        date = date or page.first_published_at or page.latest_revision_created_at or timezone.now()
        # Most sites have no view restriction at all: then no page needs its ancestors looked up.
        restricted = page.get_view_restrictions().first() if self.any_restriction else None
        status = extra.get("status") if extra.get("status") in ("draft", "pending", "private", "future") else "draft"
        if page.live:
            status = "publish"
        parent_id = 0
        if not is_report and root is not None:
            parent = page.get_parent()
            parent_id = parent.pk if parent and parent.pk != root.pk and parent.depth > root.depth else 0
        url = page.full_url or ""
        self.w("\t<item>\n")
        self.tag("title", html_text(page.title))
        self.tag("link", escape(url), raw=True)
        self.tag("pubDate", _rfc822(date), raw=True)
        if is_report:
            bylines = [(self.byline_logins[a.pk], a.name) for a in page.authors if a.pk in self.byline_logins]
            logins = [login for login, _name in bylines]
        else:
            logins = [self.account_logins[page.owner_id]] if page.owner_id in self.account_logins else []
        self.tag("dc:creator", logins[0] if logins else "")
        self.w(f'\t\t<guid isPermaLink="false">{escape(settings.BASE_URL)}/?p={page.pk}</guid>\n')
        self.tag("description", "", raw=True)
        self.tag("content:encoded", body_html(page.body))
        self.tag("excerpt:encoded", html_text(page.standfirst if is_report else page.intro))
        self.tag("wp:post_id", page.pk, raw=True)
        self.tag("wp:post_date", _local(date))
        self.tag("wp:post_date_gmt", _gmt(date) if page.live else NO_DATE)
        replies_open = (getattr(page, "replies", "open") == "open") if is_report else False
        self.tag("wp:comment_status", "open" if replies_open else "closed")
        self.tag("wp:ping_status", "closed")
        self.tag("wp:post_name", page.slug)
        self.tag("wp:status", status)
        self.tag("wp:post_parent", parent_id, raw=True)
        self.tag("wp:menu_order", extra.get("menu_order", 0) or 0, raw=True)
        self.tag("wp:post_type", post_type)
        password = restricted.password if restricted is not None and restricted.password else ""
        self.tag("wp:post_password", password)
        self.tag("wp:is_sticky", 1 if extra.get("sticky") else 0, raw=True)
        if len(logins) > 1:
            self.meta("postmeta", {AUTHORS_KEY: json.dumps(bylines, ensure_ascii=False)})
        self.report.counts[post_type] += 1
        if is_report:
            for category in page.categories.all():
                self.w(f'\t\t<category domain="category" nicename="{html_text(category.slug)}">')
                self.w(f"{cdata(html_text(category.name))}</category>\n")
            for tagged in page.tagged_items.all():
                self.w(f'\t\t<category domain="post_tag" nicename="{html_text(tagged.tag.slug)}">')
                self.w(f"{cdata(html_text(tagged.tag.name))}</category>\n")
        thread_id = self.threads.get(getattr(page, "thread_key", f"page-{page.pk}"))
        if thread_id is not None:
            self.exported_threads.add(thread_id)
            self.comments(
                Reply.objects.filter(thread_id=thread_id)
                .order_by("path", "pk")
                .values_list(*REPLY_FIELDS)
                .iterator(chunk_size=2000)
            )
        self.w("\t</item>\n")
        self.items += 1

    def _moved_out(self) -> dict[int, str]:
        """For each reply in the spam or the trash, the status it had before (WordPress's "Restore").

        The moderation log says where a reply went; the entry before its last move there says
        where it came from. With no such entry it goes back as held: nothing is published unseen.
        """
        before: dict[int, str] = {}
        entries = (
            ModerationLogEntry.objects.filter(reply__status__in=[Reply.Status.SPAM, Reply.Status.TRASH])
            .order_by("reply_id", "created_at", "pk")
            .values_list("reply_id", "action")
        )
        for reply_id, action in entries.iterator(chunk_size=2000):
            if action in (Reply.Status.APPROVED, Reply.Status.PENDING):
                before[reply_id] = STATUS_OUT[action]
        return before

    def comments(self, replies: Iterable[tuple]) -> None:
        """Replies as rows of REPLY_FIELDS: a model instance per reply cost more than the rest."""
        numbers: dict[int, int] = {}
        # WordPress's trash time: it empties its trash EMPTY_TRASH_DAYS after it, so the day of
        # the export (an older date would have WordPress delete the replies on its next run).
        moved_at = str(int(timezone.now().timestamp()))
        for pk, author_name, email, website, created_at, body, html, status, kind, parent_id, user_id in replies:
            kind = {"pingback": "pingback", "trackback": "trackback"}.get(kind, "comment")
            parent_number = numbers.get(parent_id, 0) if parent_id else 0
            number = pk
            if number <= parent_number:
                self.next_free_number += 1
                number = self.next_free_number
                self.comment_numbers[pk] = number
                self.report.counts["renumbered"] += 1
            numbers[pk] = number
            html = xml_safe(html)
            meta = source_meta(xml_safe(body), html)
            if status in (Reply.Status.SPAM, Reply.Status.TRASH):
                meta["_wp_trash_meta_status"] = self.moved_out.get(pk, "0")
                meta["_wp_trash_meta_time"] = moved_at
            if email and not wordpress_accepts_email(email):
                self.report.warn(
                    _("reply %(id)s by %(name)s") % {"id": number, "name": author_name},
                    _("WordPress refuses the address “%(email)s”: it is kept, but saving the comment there fails")
                    % {"email": email},
                )
            self.report.replies_by_status[str(Reply.Status(status).label)] += 1
            self.report.counts["reply"] += 1
            self.w(
                "\t\t<wp:comment>\n"
                f"\t\t\t<wp:comment_id>{number}</wp:comment_id>\n"
                f"\t\t\t<wp:comment_author>{cdata(html_text(author_name))}</wp:comment_author>\n"
                f"\t\t\t<wp:comment_author_email>{cdata(email or '')}</wp:comment_author_email>\n"
                f"\t\t\t<wp:comment_author_url>{html_text(website)}</wp:comment_author_url>\n"
                "\t\t\t<wp:comment_author_IP></wp:comment_author_IP>\n"
                f"\t\t\t<wp:comment_date>{_local(created_at)}</wp:comment_date>\n"
                f"\t\t\t<wp:comment_date_gmt>{_gmt(created_at)}</wp:comment_date_gmt>\n"
                f"\t\t\t<wp:comment_content>{cdata(html)}</wp:comment_content>\n"
                f"\t\t\t<wp:comment_approved>{STATUS_OUT.get(status, '0')}</wp:comment_approved>\n"
                f"\t\t\t<wp:comment_type>{kind}</wp:comment_type>\n"
                f"\t\t\t<wp:comment_parent>{parent_number}</wp:comment_parent>\n"
                f"\t\t\t<wp:comment_user_id>{self.account_offset + user_id if user_id else 0}</wp:comment_user_id>\n"
            )
            self.meta("commentmeta", meta, indent="\t\t\t")
            self.w("\t\t</wp:comment>\n")
            self.replies += 1


def export_wxr(out) -> WXRWriter:
    writer = WXRWriter(out)
    writer.write()
    return writer
