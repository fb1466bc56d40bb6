"""Writes what the format readers found into the site: pages, snippets, threads and replies.

The readers (wxr.py, disqus.py, isso.py) only parse; this class decides how a source item maps
onto Speakout and remembers it in ``ImportedItem``, which makes every import idempotent: an
item seen before is updated when its content changed and left alone otherwise.

New rows are written in bulk. A new post's page, its log entry, import record, redirects,
filing, thread and replies are not written one post at a time: the writer reserves their ids
(so tree paths, which contain ids, are known up front) and keeps the rows until a batch of
posts is complete, then writes each table's rows with one statement (on PostgreSQL the replies
with COPY). Anything that reads what a batch would write (an existing page or thread, a known
redirect, a view restriction, the end of the import) writes the batch first, so readers and
the rest of the import always see the database as if every row had been written at once.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.db import connection, models
from django.db.models import Count, F, Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from modelcluster.models import get_all_child_m2m_relations, get_all_child_relations
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.log_actions import get_active_log_context
from wagtail.models import Page, PageLogEntry, PageViewRestriction

from speakout.discussion.models import (
    PATH_SEGMENT_LENGTH,
    Commenter,
    ModerationLogEntry,
    RemovedReply,
    Reply,
    Thread,
    path_segment,
    thread_dependency,
)
from speakout.discussion.rendering import render_markdown, sanitise
from speakout.discussion.services import MAX_PATH_DEPTH, get_or_create_thread
from speakout.pagecache import versions
from speakout.publishing.home import HomePageRefused, home_page
from speakout.publishing.models import Author, Category, ReportAuthor, ReportIndexPage, ReportPage, StandardPage

from .errors import ImportFailed
from .html import autop, convert_body, html_to_text
from .media import SIZE_SUFFIX, cached, clean_file, uploads_path
from .models import ImportedItem
from .result import ImportResult

BATCH_SIZE = 1000
# A batch of new posts is written when it has this many posts or this many replies.
POST_BATCH = 100
REPLY_BATCH = 5000
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"}


def checksum(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class PostData:
    """One post or page as a reader found it."""

    source_id: str
    kind: str  # ImportedItem.Kind.REPORT or PAGE
    title: str
    slug: str = ""
    date: datetime | None = None
    live: bool = True
    go_live_at: datetime | None = None
    body_html: str = ""
    excerpt: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    old_links: list[str] = field(default_factory=list)
    replies_open: bool = True
    parent_source_id: str = ""
    data: dict = field(default_factory=dict)


@dataclass
class CommentData:
    """One reply as a reader found it; ``parent_id`` is the source id of its parent."""

    source_id: str
    parent_id: str = ""
    author_name: str = ""
    email: str = ""
    website: str = ""
    created_at: datetime | None = None
    body: str = ""
    status: str = Reply.Status.APPROVED
    kind: str = Reply.Kind.REPLY
    markdown: bool = False  # Isso keeps Markdown; WordPress and Disqus keep HTML
    html: str | None = None  # the HTML shown for it, when the source had both (Speakout's own WXR)


# The columns save_replies fills in; every other column of a reply gets its default.
REPLY_COLUMNS = (
    "id",
    "thread_id",
    "parent_id",
    "path",
    "depth",
    "kind",
    "commenter_id",
    "author_name",
    "author_website",
    "body",
    "body_html",
    "status",
    "created_at",
    "external_id",
)


def insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT ``rows`` (values for the fields named by ``columns``, as attribute names); every
    other field gets its default. For plain values only: no save(), no signals. bulk_create
    prepares each value of each row through its field, which was most of the time of a
    100,000-reply import; here only dates are prepared, once per value. PostgreSQL gets the
    rows through COPY (one statement however many rows; an INSERT per row cost the server more
    than the import's own work), other databases through one executemany."""
    if not rows:
        return
    fields = {field.attname: field for field in model._meta.concrete_fields}
    given = [fields[name] for name in columns]
    others = [field for name, field in fields.items() if name not in columns]
    defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in others)
    dates = [i for i, field in enumerate(given) if isinstance(field, models.DateTimeField)]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in given + others)
    prepared = []
    for row in rows:
        if dates:
            row = list(row)
            for i in dates:
                row[i] = given[i].get_db_prep_save(row[i], connection)
        prepared.append((*row, *defaults))
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The table and column names are the model's own, quoted; the values are data.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * (len(given) + len(others)))
        # The table and column names are the model's own, quoted; every value is a parameter.
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", prepared)  # nosec B608


def insert_objects(model, objects: list) -> None:
    """INSERT unsaved ``objects`` (ids set) into ``model``'s own table only: for a page, the
    ``wagtailcore_page`` row and the specific row are two calls. Values go through each field's
    own preparation, as ``save()`` would (pre-save hooks included); no signals are sent."""
    if not objects:
        return
    fields = model._meta.local_concrete_fields
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    rows = [tuple(field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields) for obj in objects]
    # The table and column names are the model's own, quoted; every value is a parameter.
    statement = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # nosec B608
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def reserve_ids(model, count: int, after: int = 0) -> list[int]:
    """``count`` fresh primary keys for ``model``, all above ``after``. Called inside the import's
    transaction: on PostgreSQL the sequence hands them out; on SQLite the transaction holds the
    write lock, so nobody else can take the ids after the current maximum (``after`` is the
    highest id the import has reserved but not written yet)."""
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        start = model._base_manager.aggregate(highest=Max("pk"))["highest"] or 0
        if connection.vendor == "sqlite":
            # AUTOINCREMENT never reuses the id of a deleted row; neither do we.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(start, row[0] if row else 0)
        start = max(start, after)
        return list(range(start + 1, start + 1 + count))


def _next_path(path: str) -> str:
    """The tree path of the sibling after ``path`` (treebeard's ``_inc_path``)."""
    step = Page.steplen
    number = Page._str2int(path[-step:]) + 1
    key = Page._int2str(number)
    if len(key) > step:
        raise ImportFailed(_("Too many pages under one parent page."))
    return path[:-step] + Page.alphabet[0] * (step - len(key)) + key


def old_path(link: str) -> str:
    """The path (and query) of an old address, as the redirects app stores it."""
    if not link:
        return ""
    parts = urlsplit(link.strip())
    path = parts.path or "/"
    return Redirect.normalise_path(path + (f"?{parts.query}" if parts.query else ""))


@dataclass
class _Batch:
    """New rows kept until a batch of posts is complete (see the module docstring)."""

    pages: list[Page] = field(default_factory=list)  # specific pages, ids and tree paths set
    page_ids: set[int] = field(default_factory=set)
    children: Counter = field(default_factory=Counter)  # parent already written → new children
    tagged: list[Page] = field(default_factory=list)
    categories: list = field(default_factory=list)  # ReportPage.categories.through rows
    authors: list[ReportAuthor] = field(default_factory=list)
    items: list[ImportedItem] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    threads: dict[int, Thread] = field(default_factory=dict)
    filled: set[int] = field(default_factory=set)  # new threads whose replies are in the batch
    replies: list[tuple] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.pages or self.items or self.redirects or self.threads or self.replies)


class SiteWriter:
    def __init__(
        self,
        source: str,
        result: ImportResult,
        *,
        media_dir: Path | None = None,
        use_fetched: bool = False,
        dry_run: bool = False,
        tick: Callable[[int, int], None] | None = None,
    ):
        self.source = source
        self.site_title = ""  # the old site's name, for a home page the import has to create
        self.result = result
        self.media_dir = media_dir
        self.use_fetched = use_fetched  # read files that --fetch-media brought into the cache
        self.dry_run = dry_run
        self.tick = tick or (lambda items, replies: None)
        self.authors: dict[str, Author] = {}
        self.categories: dict[str, Category] = {}
        self.media_urls: dict[str, str] = {}  # old address → new address
        self.media_images: dict[str, object] = {}  # old address (without size suffix) → image
        self.pages_by_source: dict[str, Page] = {}
        self.touched_commenters: set[int] = set()
        self._home = None
        self._index = None
        self._slugs: dict[int, set[str]] = {}
        self._last_child_path: dict[int, str | None] = {}
        self._commenter_ids: dict[str, int] = {}  # email → commenter, across threads
        self._any_restriction: bool | None = None  # does any page have a view restriction?
        self._redirect_paths: set[str] | None = None
        self._items: dict[tuple[str, str], dict[str, ImportedItem]] = {}  # (source, kind) → source id → record
        self._batch = _Batch()
        self._id_pool: dict[type, list[int]] = {}  # PostgreSQL: ids taken from the sequence, not used yet
        self._highest_id: dict[type, int] = {}  # SQLite: the highest id reserved so far

    # -- the site's structure ---------------------------------------------------------------
    @property
    def home(self) -> Page:
        if self._home is None:
            try:
                # A fresh install's placeholder root gives way to a home page (and is kept).
                self._home = home_page(self.site_title or _("Home"))
            except HomePageRefused as refused:
                # A root of the operator's own making stays the root; the import goes under it.
                self._home = refused.page
        return self._home

    @property
    def index(self) -> ReportIndexPage:
        if self._index is None:
            index = ReportIndexPage.objects.descendant_of(self.home).first()
            if index is None:
                # add_child reads the home page's children from the database: write the batch.
                self.flush()
                index = self.home.add_child(instance=ReportIndexPage(title=_("Reports"), slug="reports", live=True))
                self._last_child_path.pop(self.home.pk, None)
                self._slugs.get(self.home.pk, set()).add(index.slug)
            self._index = index
        return self._index

    def _free_slug(self, parent: Page, wanted: str, fallback: str) -> str:
        if parent.pk not in self._slugs:
            self._slugs[parent.pk] = set(parent.get_children().values_list("slug", flat=True))
        taken = self._slugs[parent.pk]
        base = slugify(unquote(wanted or ""), allow_unicode=True)[:240] or slugify(fallback, allow_unicode=True)[:240]
        base = base or "item"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        return slug

    # -- remembered items ------------------------------------------------------------------
    def _item(self, kind: str, source_id: str) -> ImportedItem | None:
        if kind in (ImportedItem.Kind.REPORT, ImportedItem.Kind.PAGE):
            # Posts and pages: the source's records read once rather than one query per post.
            if (self.source, kind) not in self._items:
                self._items[self.source, kind] = {
                    item.source_id: item
                    for item in ImportedItem.objects.filter(source=self.source, kind=kind).only(
                        "pk", "source_id", "object_id", "checksum"
                    )
                }
            return self._items[self.source, kind].get(source_id)
        return ImportedItem.objects.filter(source=self.source, kind=kind, source_id=source_id).first()

    def _remember(
        self, kind: str, source_id: str, obj_id, digest: str = "", data: dict | None = None, *, item=None
    ) -> None:
        """Record a source item; ``item`` is its record when the caller already looked it up."""
        values = {"object_id": str(obj_id), "checksum": digest, "data": data or {}}
        if item is not None:
            ImportedItem.objects.filter(pk=item.pk).update(**values, imported_at=timezone.now())
            item.object_id, item.checksum = values["object_id"], digest
        elif kind in (ImportedItem.Kind.REPORT, ImportedItem.Kind.PAGE):
            # save_post looked the record up and found none: no second lookup; written with the batch.
            item = ImportedItem(source=self.source, kind=kind, source_id=source_id, **values)
            self._batch.items.append(item)
            self._items.setdefault((self.source, kind), {})[source_id] = item
        else:
            ImportedItem.objects.update_or_create(source=self.source, kind=kind, source_id=source_id, defaults=values)

    # -- authors, categories ---------------------------------------------------------------
    def author(self, key: str, name: str, data: dict | None = None) -> Author | None:
        key = (key or "").strip()
        if not key:
            return None
        if key in self.authors:
            return self.authors[key]
        slug = slugify(key, allow_unicode=True)[:200] or slugify(name, allow_unicode=True)[:200]
        if not slug:
            self.result.skip(_("author %(key)s") % {"key": key}, _("no usable name"))
            return None
        author, created = Author.objects.get_or_create(slug=slug, defaults={"name": (name or key)[:200]})
        if not created and name and author.name != name[:200] and self._item("author", key):
            author.name = name[:200]
            author.save(update_fields=["name"])
        self.result.count("author", "created" if created else "existing")
        self._remember("author", key, author.pk, data=data)
        self.authors[key] = author
        return author

    def category(self, slug: str, name: str, parent: str = "", description: str = "") -> Category | None:
        clean = slugify(unquote(slug or ""), allow_unicode=True)[:100] or slugify(name, allow_unicode=True)[:100]
        if not clean:
            self.result.skip(_("category %(name)s") % {"name": name}, _("no usable name"))
            return None
        if clean in self.categories:
            return self.categories[clean]
        category, created = Category.objects.get_or_create(
            slug=clean, defaults={"name": (name or clean)[:100], "description": description}
        )
        self.result.count("category", "created" if created else "existing")
        # Our categories are flat; the parent is kept for the WXR export.
        parent_slug = slugify(unquote(parent or ""), allow_unicode=True)[:100]
        self._remember("category", clean, category.pk, data={"parent": parent_slug} if parent_slug else {})
        self.categories[clean] = category
        return category

    # -- media -----------------------------------------------------------------------------
    def _local_file(self, url: str) -> Path | None:
        """The file for an old address: in the media folder, else fetched by ``--fetch-media``."""
        if self.media_dir is not None:
            relative = uploads_path(url)
            local = self.media_dir / relative
            if relative and local.is_file() and local.resolve().is_relative_to(self.media_dir.resolve()):
                return local
            # WordPress links resized copies ("photo-300x200.jpg"); the original stands in.
            original = self.media_dir / SIZE_SUFFIX.sub("", relative)
            if relative and original.is_file() and original.resolve().is_relative_to(self.media_dir.resolve()):
                return original
        if self.use_fetched and cached(url).is_file():
            return cached(url)
        return None

    def attachment(self, source_id: str, url: str, title: str) -> None:
        """Import an attachment's file (media folder or fetched) and remember its new address."""
        if not url:
            return
        self._media_file(source_id, url, title)

    def _media_file(self, source_id: str, url: str, title: str, *, quiet: bool = False):
        """Store the file of ``url`` once (remembered under ``source_id``); returns the image or
        document, or None when there is no usable file (the old address then stays a link)."""
        existing = self._item("attachment", source_id)
        model_by_type = {"image": get_image_model(), "document": get_document_model()}
        obj = None
        if existing and existing.object_id:
            model = model_by_type.get(existing.data.get("type", ""), get_image_model())
            obj = model.objects.filter(pk=existing.object_id).first()
        if obj is None:
            local = self._local_file(url)
            if local is None:
                if not quiet:
                    self.result.skip(
                        _("attachment %(url)s") % {"url": url},
                        _("the file is not in the media folder; it is shown as a link to its old address"),
                    )
                return None
            cleaned = clean_file(local.read_bytes(), os.path.basename(uploads_path(url)) or local.name)
            if cleaned is None:
                self.result.skip(
                    _("file %(url)s") % {"url": url},
                    _("it is not an image or a document Speakout keeps; it is shown as a link to its old address"),
                )
                return None
            if self.dry_run:
                self.result.count("attachment", "created")
                return None
            model = get_image_model() if cleaned.is_image else get_document_model()
            obj = model(title=(title or cleaned.name)[:255])
            content = (
                ImageFile(io.BytesIO(cleaned.content), name=cleaned.name)
                if cleaned.is_image
                else ContentFile(cleaned.content, name=cleaned.name)
            )
            obj.file.save(cleaned.name, content, save=False)
            obj.save()
            self.result.count("attachment", "created")
            self._remember(
                "attachment",
                source_id,
                obj.pk,
                data={"url": url, "type": "image" if cleaned.is_image else "document", "file": uploads_path(url)},
            )
        else:
            self.result.count("attachment", "unchanged")
        is_image = obj._meta.model is get_image_model()
        self.media_urls[url] = obj.file.url if is_image else obj.url
        if is_image:
            self.media_images[url.split("?")[0]] = obj
        return obj

    def image_for(self, url: str):
        url = url.split("?")[0]
        found = self.media_images.get(url) or self.media_images.get(SIZE_SUFFIX.sub("", url))
        if found is None and url and (self.media_dir is not None or self.use_fetched):
            # An image a post shows that is no attachment of the export (another site's, say).
            found = self._media_file(f"url:{url}"[:300], url, "", quiet=True)
            if found is not None and found._meta.model is not get_image_model():
                found = None
        return found

    # -- pages -----------------------------------------------------------------------------
    def save_post(self, post: PostData) -> Page | None:
        if len(self._batch.pages) >= POST_BATCH or len(self._batch.replies) >= REPLY_BATCH:
            self.flush()
        body = convert_body(post.body_html, image_for=self.image_for, url_map=self.media_urls)
        standfirst = html_to_text(post.excerpt)[:1000]
        digest = checksum(
            [post.title, post.slug, post.date, post.live, body, standfirst, post.authors, post.categories, post.tags]
            + [post.replies_open, post.data]
        )
        model = ReportPage if post.kind == ImportedItem.Kind.REPORT else StandardPage
        item = self._item(post.kind, post.source_id)
        if item is not None and item.pk is None:  # the same post earlier in this batch
            self.flush()
        page = model.objects.filter(pk=item.object_id).first() if item and item.object_id else None
        title = (html_to_text(post.title) or post.title or _("Untitled"))[:255]
        if page is not None and item.checksum == digest:
            self.result.count(post.kind, "unchanged")
            self.pages_by_source[post.source_id] = page
            return page
        date = post.date
        fields = {"title": title, "live": post.live, "body": body}
        if post.kind == ImportedItem.Kind.REPORT:
            fields.update(standfirst=standfirst, replies="open" if post.replies_open else "closed")
            if date:
                fields["date"] = date
        else:
            fields["intro"] = standfirst
        if post.live and date:
            fields.update(first_published_at=date, last_published_at=date)
        if not post.live and post.go_live_at:
            fields["go_live_at"] = post.go_live_at
        created = page is None
        if created:
            parent = self.index if post.kind == ImportedItem.Kind.REPORT else self.home
            if post.parent_source_id and post.parent_source_id in self.pages_by_source:
                parent_page = self.pages_by_source[post.parent_source_id]
                if not isinstance(parent_page.specific, ReportPage):
                    parent = parent_page
            page = model(slug=self._free_slug(parent, post.slug, title), has_unpublished_changes=not post.live)
            for name, value in fields.items():
                setattr(page, name, value)
            if post.tags and isinstance(page, ReportPage):
                page.tags.set(post.tags)
            self._add_child(parent, page)
            self._file_new_page(page, post)
        else:
            for name, value in fields.items():
                setattr(page, name, value)
            self._set_filing(page, post)
            page.save()
        self.result.count(post.kind, "created" if created else "updated")
        self._remember(post.kind, post.source_id, page.pk, digest, data=post.data, item=item)
        self.pages_by_source[post.source_id] = page
        self._redirects(page, post.old_links)
        self.tick(1, 0)
        return page

    def _add_child(self, parent: Page, page: Page) -> None:
        """treebeard's ``add_child`` without its per-page lookups (the parent's row, its last
        child, the locale) and without Wagtail's full validation, which dominated an import's
        time: the slug is already free under the parent, the title cut to length and the body
        built from valid blocks. The parent's last child path is remembered between pages. The
        page joins the batch: its id is reserved now, its row written by ``flush``."""
        batch = self._batch
        if parent.pk not in self._last_child_path:
            last = None
            if parent.pk not in batch.page_ids:  # a page of this batch has no children yet
                # Lock the parent as add_child does, so an editor adding a page under it waits for
                # the import's transaction instead of taking the same path (SQLite has one writer).
                list(Page.objects.select_for_update().filter(pk=parent.pk).values_list("pk", flat=True))
                last = (
                    Page.objects.filter(depth=parent.depth + 1, path__startswith=parent.path)
                    .order_by("-path")
                    .values_list("path", flat=True)
                    .first()
                )
            self._last_child_path[parent.pk] = last
        last = self._last_child_path[parent.pk]
        page.depth = parent.depth + 1
        page.path = Page._get_path(parent.path, page.depth, 1) if last is None else _next_path(last)
        page.numchild = 0
        page.locale_id = parent.locale_id
        page.draft_title = page.title
        page.set_url_path(parent)
        page.id = page.pk = self._take_ids(Page, 1, chunk=POST_BATCH)[0]
        page._cached_parent_obj = parent
        self._last_child_path[parent.pk] = page.path
        if parent.pk not in batch.page_ids:  # a parent of this batch is written with its count
            batch.children[parent.pk] += 1
        parent.numchild += 1
        batch.pages.append(page)
        batch.page_ids.add(page.pk)

    def _take_ids(self, model, count: int, chunk: int) -> list[int]:
        """``count`` fresh ids for rows the import writes with their ids. PostgreSQL: taken from
        the sequence ``chunk`` at a time (an unused rest leaves a gap, as sequences do). SQLite:
        above both the table's highest id and the highest reserved so far (rows of the batch
        are not written yet); Page, Thread and Reply rows are only added through here or after
        ``flush``, so nobody else takes these ids."""
        if count <= 0:
            return []
        if connection.vendor == "postgresql":
            pool = self._id_pool.setdefault(model, [])
            if len(pool) < count:
                pool.extend(reserve_ids(model, max(count - len(pool), chunk)))
            ids, self._id_pool[model] = pool[:count], pool[count:]
            return ids
        ids = reserve_ids(model, count, after=self._highest_id.get(model, 0))
        self._highest_id[model] = ids[-1]
        return ids

    def _file_new_page(self, page: Page, post: PostData) -> None:
        """A new report's categories and byline, inserted directly with the batch: through
        modelcluster each relation costs a lookup of what is already there (nothing, for a new
        page). Its tags (set on the page) are committed as its save would."""
        if not isinstance(page, ReportPage):
            return
        categories = list(dict.fromkeys(self.categories[c].pk for c in post.categories if c in self.categories))
        through = ReportPage.categories.through
        self._batch.categories.extend(through(reportpage_id=page.pk, category_id=pk) for pk in categories)
        authors = list(dict.fromkeys(self.authors[a].pk for a in post.authors if a in self.authors))
        self._batch.authors.extend(
            ReportAuthor(report_id=page.pk, author_id=pk, sort_order=i) for i, pk in enumerate(authors)
        )
        if post.tags:
            self._batch.tagged.append(page)

    def _set_filing(self, page: Page, post: PostData) -> None:
        if not isinstance(page, ReportPage):
            return
        page.categories = [self.categories[c] for c in post.categories if c in self.categories]
        authors = [self.authors[a] for a in post.authors if a in self.authors]
        page.report_authors = [ReportAuthor(author=author, sort_order=i) for i, author in enumerate(authors)]
        # Tags ride on the page's own save (modelcluster), not a second one.
        page.tags.set(post.tags)

    def _redirects(self, page: Page, links: list[str]) -> None:
        own = Redirect.normalise_path(page.url_path[len(self.home.url_path) - 1 :]) if self.home else ""
        paths = list(dict.fromkeys(path for path in map(old_path, links) if path and path != "/" and path != own))
        if not paths:
            return
        if self._redirect_paths is None:
            # Every old path once, so a page whose paths are all new needs no lookup.
            self._redirect_paths = set(Redirect.objects.filter(site=None).values_list("old_path", flat=True))
        known = [path for path in paths if path in self._redirect_paths]
        if known:
            self.flush()  # the redirect may be one of the batch, and may come to point at this page
        existing = (
            {redirect.old_path: redirect for redirect in Redirect.objects.filter(old_path__in=known, site=None)}
            if known
            else {}
        )
        for redirect in existing.values():
            if redirect.redirect_page_id != page.pk or not redirect.is_permanent:
                redirect.redirect_page, redirect.is_permanent = page, True
                redirect.save()
            self.result.count("redirect", "updated")
        missing = [Redirect(old_path=path, site=None, redirect_page=page, is_permanent=True) for path in paths]
        missing = [redirect for redirect in missing if redirect.old_path not in existing]
        if missing:
            self._batch.redirects.extend(missing)
            self._redirect_paths.update(redirect.old_path for redirect in missing)
            self.result.count("redirect", "created", len(missing))

    def restrict_with_password(self, page: Page, password: str) -> None:
        self.flush()  # the restriction's receivers read the page and its thread
        if not PageViewRestriction.objects.filter(page=page).exists():
            PageViewRestriction.objects.create(
                page=page, restriction_type=PageViewRestriction.PASSWORD, password=password[:255]
            )
        self._any_restriction = True

    # -- threads and replies ---------------------------------------------------------------
    def thread_for_page(self, page: Page) -> Thread:
        report = page.specific
        key = getattr(report, "thread_key", f"page-{page.pk}")
        if self._any_restriction is None:
            self._any_restriction = PageViewRestriction.objects.exists()
        # Without any view restriction on the site, no page needs its ancestors looked up.
        restricted = self._any_restriction and page.get_view_restrictions().exists()
        status = getattr(report, "replies", "open")
        opened = getattr(report, "first_published_at", None) or getattr(report, "date", None)
        if page.pk in self._batch.page_ids:
            # A page of this batch has no thread yet: the new thread joins the batch, as
            # get_or_create_thread and the changes below would have made it.
            thread = Thread(
                pk=self._take_ids(Thread, 1, chunk=POST_BATCH)[0],
                key=key,
                url=page.full_url or "",
                title=page.title[:500],
                is_public=bool(page.live) and not restricted,
                status=status,
            )
            if opened:
                thread.opened_at = opened
            self._batch.threads[thread.pk] = thread
            return thread
        self.flush()
        thread = get_or_create_thread(
            key,
            url=page.full_url or "",
            title=page.title,
            is_public=bool(page.live) and not restricted,
        )
        changes = {}
        if thread.status != status:
            changes["status"] = status
        if opened and thread.opened_at != opened:
            changes["opened_at"] = opened
        if changes:
            Thread.objects.filter(pk=thread.pk).update(**changes)
        return thread

    def external_thread(self, key: str, url: str, title: str) -> Thread:
        self.flush()
        thread = get_or_create_thread(key[:255], url=url[:1000] if url.startswith(("http://", "https://")) else "")
        if title and not thread.title:
            Thread.objects.filter(pk=thread.pk).update(title=title[:500])
        return thread

    def page_for_url(self, url: str) -> Page | None:
        """The imported or existing page an external thread's address points at, if any."""
        if not url:
            return None
        self.flush()
        path = urlsplit(url).path or "/"
        if not path.endswith("/"):
            path += "/"
        home_path = self.home.url_path
        page = Page.objects.filter(url_path=home_path.rstrip("/") + path).first()
        if page is None:
            redirect = Redirect.objects.filter(old_path=old_path(url), redirect_page__isnull=False).first()
            page = redirect.redirect_page if redirect else None
        return page

    # Asked once per import: on most sites nothing imported was ever deleted or moderated, and a
    # re-import then needs no look-up per thread.
    @cached_property
    def _site_removed_imported_replies(self) -> bool:
        return RemovedReply.objects.exists()

    @cached_property
    def _site_moderated_imported_replies(self) -> bool:
        return ModerationLogEntry.objects.filter(reply__external_id__gt="").exists()

    def save_replies(self, thread: Thread, comments: list[CommentData], prefix: str) -> None:
        """Store a thread's replies with their tree. A reply whose parent is missing joins the
        thread at the top; a reply may come before its parent in the file."""
        batch = self._batch
        new_thread = thread.pk in batch.threads and thread.pk not in batch.filled
        if not new_thread:
            self.flush()  # the thread's replies and counts are read from the database
        by_id: dict[str, CommentData] = {}
        for comment in comments:
            if not comment.source_id:
                self.result.skip(_("a reply in “%(thread)s”") % {"thread": thread}, _("it has no id"))
                continue
            if comment.source_id in by_id:
                self.result.skip(
                    _("reply %(id)s") % {"id": comment.source_id}, _("the same id appears twice in the file")
                )
                continue
            by_id[comment.source_id] = comment
        existing = (
            {}
            if new_thread
            else {
                row["external_id"][len(prefix) :]: row
                for row in Reply.objects.filter(thread=thread, external_id__startswith=prefix).values(
                    "id", "external_id", "status", "body", "kind", "path", "depth", "commenter_id", "edited_at"
                )
            }
        )
        # What was decided here wins over the file: a reply deleted here (by its author, a
        # moderator or the purge) is not brought back, and one a moderator moved (spam, trash, an
        # evidence hold) or someone edited keeps its status and text.
        removed: set[str] = set()
        decided: set[int] = set()
        if not new_thread and self._site_removed_imported_replies:
            removed = {
                external_id[len(prefix) :]
                for external_id in RemovedReply.objects.filter(
                    thread=thread, external_id__startswith=prefix
                ).values_list("external_id", flat=True)
            }
        if existing and self._site_moderated_imported_replies:
            decided = set(
                ModerationLogEntry.objects.filter(reply__thread=thread, reply__external_id__startswith=prefix)
                .values_list("reply_id", flat=True)
                .distinct()
            )
        for sid in removed & by_id.keys():
            del by_id[sid]
            self.result.count("reply", "deleted here")
            self.result.skip(
                _("reply %(id)s") % {"id": sid}, _("it was deleted here; importing does not bring it back")
            )
        # Parents: a missing one (or a loop) makes the reply top-level.
        parent_of: dict[str, str] = {}
        for sid, comment in by_id.items():
            parent = comment.parent_id if comment.parent_id and comment.parent_id != "0" else ""
            if parent and parent not in by_id and parent not in existing:
                if parent in removed:
                    why = _("its parent %(parent)s was deleted here; it joins the thread at the top")
                else:
                    why = _("its parent %(parent)s is not in the file; it joins the thread at the top")
                self.result.note(_("reply %(id)s") % {"id": sid}, why % {"parent": parent})
                parent = ""
            parent_of[sid] = parent
        depth_of: dict[str, int] = {}

        def depth(sid: str) -> int:
            chain, node = [], sid
            while node and node not in depth_of and node not in existing:
                if node in chain:  # a loop: break it at this reply
                    parent_of[node] = ""
                    self.result.note(_("reply %(id)s") % {"id": node}, _("its parents form a loop; it joins the top"))
                    break
                chain.append(node)
                node = parent_of.get(node, "")
            base = depth_of.get(node, existing[node]["depth"] if node in existing else -1) if node else -1
            for member in reversed(chain):
                base = base + 1 if parent_of.get(member) else 0
                depth_of[member] = base
            return depth_of.get(sid, existing[sid]["depth"] if sid in existing else 0)

        new_ids = [sid for sid in by_id if sid not in existing]
        for sid in new_ids:
            depth(sid)
        # Updates to replies we already have: status, text and kind only (the tree stays).
        updated = []
        kept_here = 0
        for sid, row in existing.items():
            comment = by_id.get(sid)
            if comment is None:
                continue
            status, kind = comment.status, comment.kind
            if (row["status"], row["body"], row["kind"]) == (comment.status, comment.body, comment.kind):
                self.result.count("reply", "unchanged")
            elif row["id"] in decided or row["edited_at"] is not None:
                kept_here += 1
                status, kind = row["status"], row["kind"]
            else:
                updated.append(
                    Reply(
                        pk=row["id"],
                        status=comment.status,
                        body=comment.body,
                        body_html=self._reply_html(comment),
                        kind=comment.kind,
                    )
                )
            self.result.replies_by_status[status] += 1
            self.result.replies_by_kind[kind] += 1
            self.result.max_depth = max(self.result.max_depth, row["depth"])
        if updated:
            Reply.objects.bulk_update(updated, ["status", "body", "body_html", "kind"], batch_size=BATCH_SIZE)
            self.result.count("reply", "updated", len(updated))
        if kept_here:
            self.result.count("reply", "kept as changed here", kept_here)
            self.result.note(
                str(thread),
                ngettext(
                    "%(count)s reply differs from the file but was moderated or edited here; it was left as it is",
                    "%(count)s replies differ from the file but were moderated or edited here; they were left as "
                    "they are",
                    kept_here,
                )
                % {"count": kept_here},
            )
        commenters = self._commenters([by_id[sid] for sid in new_ids])
        ids = dict(zip(new_ids, self._take_ids(Reply, len(new_ids), chunk=BATCH_SIZE), strict=True))
        paths: dict[str, str] = {sid: row["path"] for sid, row in existing.items()}
        pks: dict[str, int] = {sid: row["id"] for sid, row in existing.items()}
        pks.update(ids)
        rows: list[tuple] = []
        anonymous = _("Anonymous")
        for sid in sorted(new_ids, key=lambda s: depth_of[s]):
            comment = by_id[sid]
            parent = parent_of[sid]
            level = depth_of[sid]
            base = paths.get(parent, "") if parent else ""
            if parent and level >= MAX_PATH_DEPTH:
                base = base[:-PATH_SEGMENT_LENGTH]
            paths[sid] = base + path_segment(ids[sid])
            email = _email(comment.email)
            rows.append(
                (
                    ids[sid],
                    thread.pk,
                    pks[parent] if parent else None,
                    paths[sid],
                    level,
                    comment.kind,
                    commenters.get(email) if email else None,
                    (comment.author_name or anonymous)[:100],
                    _website(comment.website),
                    comment.body,
                    self._reply_html(comment),
                    comment.status,
                    comment.created_at or thread.opened_at,
                    f"{prefix}{sid}"[:100],
                )
            )
            self.result.replies_by_status[comment.status] += 1
            self.result.replies_by_kind[comment.kind] += 1
            self.result.max_depth = max(self.result.max_depth, level)
            if len(rows) >= BATCH_SIZE and not new_thread:
                self._insert(rows)
                rows = []
        if new_thread:
            # Written with the batch; the thread row carries the count and the version bump that
            # the update below would have given it.
            batch.replies.extend(rows)
            batch.filled.add(thread.pk)
            self.result.count("reply", "created", len(rows))
            self.tick(0, len(rows))
            if new_ids:
                thread.approved_count = sum(by_id[sid].status == Reply.Status.APPROVED for sid in new_ids)
                thread.version += 1
            return
        self._insert(rows)
        if updated or (new_ids and (existing or thread.approved_count)):
            thread.refresh_approved_count()
        elif new_ids:
            # The thread had no approved reply (its count is kept by every change): count the new
            # ones here instead of in the database.
            approved = sum(by_id[sid].status == Reply.Status.APPROVED for sid in new_ids)
            Thread.objects.filter(pk=thread.pk).update(approved_count=approved, version=F("version") + 1)

    def _insert(self, batch: list[tuple]) -> None:
        if not batch:
            return
        insert_rows(Reply, REPLY_COLUMNS, batch)
        self.result.count("reply", "created", len(batch))
        self.tick(0, len(batch))

    def _reply_html(self, comment: CommentData) -> str:
        if comment.html is not None:
            return sanitise(comment.html)
        if not comment.body:
            return ""
        return render_markdown(comment.body) if comment.markdown else sanitise(autop(comment.body))

    def _commenters(self, comments: list[CommentData]) -> dict[str, int]:
        wanted: dict[str, CommentData] = {}
        for comment in comments:
            email = _email(comment.email)
            if email and email not in wanted:
                wanted[email] = comment
        if not wanted:
            return {}
        found = {email: self._commenter_ids[email] for email in wanted if email in self._commenter_ids}
        unknown = [email for email in wanted if email not in found]
        if unknown:
            found.update(Commenter.objects.filter(email__in=unknown).values_list("email", "id"))
        missing = [
            Commenter(email=email, display_name=(c.author_name or "")[:100], website=_website(c.website))
            for email, c in wanted.items()
            if email not in found
        ]
        if missing:
            for commenter in Commenter.objects.bulk_create(missing):
                found[commenter.email] = commenter.pk
            self.result.count("commenter", "created", len(missing))
        self.touched_commenters.update(found.values())
        self._commenter_ids.update(found)
        return found

    def flush(self) -> None:
        """Write the batch: each table's new rows with one statement, in the order of their
        references. New pages get what Wagtail's save gives a page added by code (the creation
        log entry, tags, search and reference indexing) without a statement per page: their
        index updates go to the worker as one task per batch."""
        batch = self._batch
        if not batch:
            return
        self._batch = _Batch()
        if batch.pages:
            insert_objects(Page, batch.pages)
            for model in dict.fromkeys(type(page) for page in batch.pages):
                insert_objects(model, [page for page in batch.pages if type(page) is model])
            for parent, count in batch.children.items():
                Page.objects.filter(pk=parent).update(numchild=F("numchild") + count)
            context = get_active_log_context()
            now = timezone.now()
            for page in batch.pages:
                page._state.adding, page._state.db = False, connection.alias
            PageLogEntry.objects.bulk_create(
                PageLogEntry(
                    content_type=page.content_type,
                    label=page.get_admin_display_title(),
                    action="wagtail.create",
                    timestamp=now,
                    data={},
                    user=page.owner or context.user,
                    uuid=context.uuid,
                    content_changed=True,
                    page=page,
                )
                for page in batch.pages
            )
            for page in batch.tagged:
                # What ClusterableModel.save commits after the page's own row.
                for relation in get_all_child_relations(page):
                    getattr(page, relation.get_accessor_name()).commit()
                for m2m in get_all_child_m2m_relations(page):
                    getattr(page, m2m.name).commit()
        if batch.categories:
            ReportPage.categories.through.objects.bulk_create(batch.categories)
        if batch.authors:
            ReportAuthor.objects.bulk_create(batch.authors)
        if batch.items:
            ImportedItem.objects.bulk_create(batch.items)
        if batch.redirects:
            Redirect.objects.bulk_create(batch.redirects)
        if batch.threads:
            threads = list(batch.threads.values())
            Thread.objects.bulk_create(threads)
            for thread in threads:
                thread._state.adding, thread._state.db = False, connection.alias
            versions.bump(*(thread_dependency(thread.key) for thread in threads))
        insert_rows(Reply, REPLY_COLUMNS, batch.replies)
        if batch.pages:
            from .tasks import index_pages_task

            index_pages_task.enqueue([page.pk for page in batch.pages])

    def finish(self) -> None:
        """Counts that span threads: each touched commenter's approved replies."""
        self.flush()
        ids = sorted(self.touched_commenters)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            # Grouped by commenter through its own index: a correlated subquery per commenter lets
            # SQLite pick the status index instead and scan every approved reply once per commenter.
            approved = dict(
                Reply.objects.filter(commenter_id__in=chunk, status=Reply.Status.APPROVED)
                .order_by()
                .values_list("commenter_id")
                .annotate(n=Count("pk"))
            )
            current = Commenter.objects.filter(pk__in=chunk).values_list("pk", "approved_count")
            changed: dict[int, list[int]] = {}
            for pk, count in current:
                if approved.get(pk, 0) != count:
                    changed.setdefault(approved.get(pk, 0), []).append(pk)
            # Few distinct counts: one update per count is far cheaper than a CASE per row.
            for count, pks in changed.items():
                Commenter.objects.filter(pk__in=pks).update(approved_count=count)
        from speakout.theme.cache import bump_content_version

        bump_content_version()


def _email(value: str) -> str:
    value = (value or "").strip()
    return value[:254] if "@" in value and " " not in value else ""


def _website(value: str) -> str:
    value = (value or "").strip()
    return value[:500] if value.startswith(("http://", "https://")) and len(value) <= 500 else ""
