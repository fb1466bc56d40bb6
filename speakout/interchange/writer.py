"""Writes what the format readers found into the site: pages, snippets, threads and replies.

The readers (wxr.py, disqus.py, isso.py) only parse; this class decides how a source item maps
onto Speakout and remembers it in ``ImportedItem``, which makes every import idempotent: an
item seen before is updated when its content changed and left alone otherwise.

New rows are written in bulk: a new post's page, its log entry, import record, redirects,
filing, thread and replies join a ``batch.PageBatch`` with ids chosen up front
(``rows.IdAllocator``; pages placed in the tree by ``tree.place_child``), and a thread's
replies are written by ``replies.ReplyWriter``. While the import runs (``session``), any
statement on a table the batch holds rows for writes the batch first, so every reader (this
module, Wagtail, signal receivers) sees the database as if each row had been written at once;
only the reads that account for the batch themselves are exempt (``_batch_aware``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, Page, PageViewRestriction

from speakout.discussion.models import Commenter, Reply, Thread
from speakout.discussion.services import get_or_create_thread
from speakout.publishing.home import HomePageRefused, home_page
from speakout.publishing.models import Author, Category, ReportAuthor, ReportIndexPage, ReportPage, StandardPage

from .batch import PageBatch
from .html import convert_body, html_to_text
from .media import SIZE_SUFFIX, cached, clean_file, private_collection, unguessable_name, uploads_path
from .models import ImportedItem
from .replies import CommentData, ReplyWriter
from .result import NAME_CUT, ImportResult
from .rows import IdAllocator
from .tree import last_child_path, place_child

# A batch of new posts is written when it has this many posts or this many replies.
POST_BATCH = 100
REPLY_BATCH = 5000
# What the site's rows can hold; an imported value that does not fit is cut and noted.
TITLE_MAX_LENGTH = Page._meta.get_field("title").max_length
AUTHOR_NAME_MAX_LENGTH = Author._meta.get_field("name").max_length
CATEGORY_NAME_MAX_LENGTH = Category._meta.get_field("name").max_length
CATEGORY_SLUG_MAX_LENGTH = Category._meta.get_field("slug").max_length
REDIRECT_PATH_MAX_LENGTH = Redirect._meta.get_field("old_path").max_length
TITLE_CUT = gettext_lazy("the title was cut to %(max)s characters")
SLUG_CUT = gettext_lazy("the slug was cut to %(max)s characters")


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


def _file_content(data: bytes, name: str, is_image: bool):
    # An image's dimensions are read as it is stored.
    return ImageFile(io.BytesIO(data), name=name) if is_image else ContentFile(data, name=name)


def old_path(link: str) -> str:
    """The path (and query) of an old address, as the redirects app stores it."""
    if not link:
        return ""
    parts = urlsplit(link.strip())
    path = parts.path or "/"
    return Redirect.normalise_path(path + (f"?{parts.query}" if parts.query else ""))


class SiteWriter:
    def __init__(
        self,
        result: ImportResult,
        *,
        media_dir: Path | None = None,
        use_fetched: bool = False,
        dry_run: bool = False,
        tick: Callable[[int, int], None] | None = None,
    ):
        self.source = ""  # named by the reader once it knows the old site
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
        self._private_collection = None
        self._private_body = False  # converting the body of a post nobody outside may read
        self._unlisted_body = False  # converting the body of a post behind a password
        self.pages_by_source: dict[str, Page] = {}
        self._home = None
        self._index = None
        self._slugs: dict[int, set[str]] = {}
        self._last_child_path: dict[int, str | None] = {}
        self._any_restriction: bool | None = None  # does any page have a view restriction?
        self._redirect_paths: set[str] | None = None
        self._items: dict[tuple[str, str], dict[str, ImportedItem]] = {}  # (source, kind) → source id → record
        self._batch = PageBatch()
        self._ids = IdAllocator()
        self._aware = 0  # inside _batch_aware: statements do not write the batch first
        self.replies = ReplyWriter(result, self._ids, self.tick)

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
        with self._batch_aware():  # the batch holds records of posts and pages only
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
            with self._batch_aware():  # the batch holds records of posts and pages only
                ImportedItem.objects.update_or_create(
                    source=self.source, kind=kind, source_id=source_id, defaults=values
                )

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
        name = self.result.cut(_("author %(key)s") % {"key": key}, name or key, AUTHOR_NAME_MAX_LENGTH, NAME_CUT)
        author, created = Author.objects.get_or_create(slug=slug, defaults={"name": name})
        if not created and author.name != name and self._item("author", key):
            author.name = name
            author.save(update_fields=["name"])
        self.result.count("author", "created" if created else "existing")
        self._remember("author", key, author.pk, data=data)
        self.authors[key] = author
        return author

    def category(self, slug: str, name: str, parent: str = "", description: str = "") -> Category | None:
        wanted = slugify(unquote(slug or ""), allow_unicode=True) or slugify(name, allow_unicode=True)
        if not wanted:
            self.result.skip(_("category %(name)s") % {"name": name}, _("no usable name"))
            return None
        if wanted in self.categories:
            return self.categories[wanted]
        what = _("category %(name)s") % {"name": wanted}
        clean = self.result.cut(what, wanted, CATEGORY_SLUG_MAX_LENGTH, SLUG_CUT)
        name = self.result.cut(what, name or clean, CATEGORY_NAME_MAX_LENGTH, NAME_CUT)
        category, created = Category.objects.get_or_create(
            slug=clean, defaults={"name": name, "description": description}
        )
        self.result.count("category", "created" if created else "existing")
        # Our categories are flat; the parent is kept for the WXR export.
        parent_slug = slugify(unquote(parent or ""), allow_unicode=True)[:100]
        self._remember("category", clean, category.pk, data={"parent": parent_slug} if parent_slug else {})
        self.categories[wanted] = self.categories[clean] = category
        return category

    # -- media -----------------------------------------------------------------------------
    def _local_file(self, url: str) -> Path | None:
        """The file for an old address: in the media folder, else fetched by ``--fetch-media``."""
        relative = uploads_path(url)
        if self.media_dir is not None and relative:
            # WordPress links resized copies ("photo-300x200.jpg"); the original stands in.
            for local in (self.media_dir / relative, self.media_dir / SIZE_SUFFIX.sub("", relative)):
                if local.is_file() and local.resolve().is_relative_to(self.media_dir.resolve()):
                    return local
        if self.use_fetched and cached(url).is_file():
            return cached(url)
        return None

    def private_collection(self):
        if self._private_collection is None:
            self._private_collection = private_collection()
        return self._private_collection

    def attachment(
        self,
        source_id: str,
        url: str,
        title: str,
        *,
        quiet: bool = False,
        private: bool = False,
        unlisted: bool = False,
    ):
        """Import the file of ``url`` (media folder or fetched) once, remembered under
        ``source_id`` with its new address; returns the image or document, or None when there is
        no usable file (the old address then stays a link).

        A ``private`` file (a draft's, say) goes into the private collection under a name nobody
        can guess; one an earlier import left in a public collection is moved there. An
        ``unlisted`` one (a password-protected post's) stays public, for the readers who have the
        password, under a name nobody can guess; one an earlier import left under its old name is
        renamed."""
        if not url:
            return None
        existing = self._item("attachment", source_id)
        obj = None
        if existing and existing.object_id:
            model = get_document_model() if existing.data.get("type") == "document" else get_image_model()
            obj = model.objects.filter(pk=existing.object_id).first()
        what = _("attachment %(url)s") % {"url": url}
        if obj is None:
            local = self._local_file(url)
            if local is None:
                if not quiet:
                    self.result.skip(
                        what, _("the file is not in the media folder; it is shown as a link to its old address")
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
            title = self.result.cut(what, title or cleaned.name, model._meta.get_field("title").max_length, TITLE_CUT)
            obj = model(title=title)
            stored_name = unguessable_name(cleaned.name) if private or unlisted else cleaned.name
            if private:
                obj.collection = self.private_collection()
            obj.file.save(stored_name, _file_content(cleaned.content, stored_name, cleaned.is_image), save=False)
            obj.save()
            self.result.count("attachment", "created")
            data = {"url": url, "type": "image" if cleaned.is_image else "document", "file": uploads_path(url)}
            marks = {"private": True} if private else {"unlisted": True} if unlisted else {}
            self._remember("attachment", source_id, obj.pk, data={**data, **marks})
        else:
            self.result.count("attachment", "unchanged")
            if private and not self.dry_run and obj.collection_id != self.private_collection().pk:
                self._make_private(obj)
                self._remember("attachment", source_id, obj.pk, data={**existing.data, "private": True}, item=existing)
            elif unlisted and not private and not self.dry_run and existing and not existing.data.get("unlisted"):
                if existing.data.get("private"):  # a draft's, published behind a password since
                    self._make_public(obj)
                else:
                    self._rename(obj)
                data = {key: value for key, value in existing.data.items() if key != "private"}
                self._remember("attachment", source_id, obj.pk, data={**data, "unlisted": True}, item=existing)
        if private:
            self.result.count("attachment", "private")
        is_image = obj._meta.model is get_image_model()
        self.media_urls[url] = obj.file.url if is_image else obj.url
        if is_image:
            self.media_images[url.split("?")[0]] = obj
        return obj

    def _make_private(self, obj) -> None:
        """Move a file an earlier import left public into the private collection; a picture also
        gets a new name (and loses its renditions, named after the old one)."""
        obj.collection = self.private_collection()
        obj.save(update_fields=["collection"])
        if obj._meta.model is get_image_model():
            self._rename(obj)

    def _make_public(self, obj) -> None:
        """Move a file out of the private collection (its name, given there, is one nobody can
        guess already); one an editor has moved elsewhere since stays where it is."""
        if obj.collection_id == self.private_collection().pk:
            obj.collection = Collection.get_first_root_node()
            obj.save(update_fields=["collection"])

    def _rename(self, obj) -> None:
        """Give a file an earlier import stored under its old name one nobody can guess (a
        picture loses its renditions, named after the old one)."""
        old = obj.file.name
        with obj.file.open("rb") as handle:
            data = handle.read()
        is_image = obj._meta.model is get_image_model()
        if is_image:
            obj.renditions.all().delete()
        obj.file.save(unguessable_name(old), _file_content(data, os.path.basename(old), is_image), save=False)
        obj.save(update_fields=["file"])
        storage = obj.file.storage
        # Once the import is committed: a rolled-back one still names the old file.
        transaction.on_commit(lambda: storage.delete(old))

    def image_for(self, url: str):
        url = url.split("?")[0]
        found = self.media_images.get(url) or self.media_images.get(SIZE_SUFFIX.sub("", url))
        if found is None and url and (self.media_dir is not None or self.use_fetched):
            # An image a post shows that is no attachment of the export (another site's, say).
            found = self.attachment(
                f"url:{url}"[:300], url, "", quiet=True, private=self._private_body, unlisted=self._unlisted_body
            )
            if found is not None and found._meta.model is not get_image_model():
                found = None
        return found

    # -- pages -----------------------------------------------------------------------------
    def save_post(self, post: PostData) -> Page | None:
        if len(self._batch.pages) >= POST_BATCH or len(self._batch.replies) >= REPLY_BATCH:
            self.flush()
        # A picture first seen in a post nobody outside may read is as private as an attachment of it.
        self._private_body = not post.live
        self._unlisted_body = bool(post.data.get("password"))
        try:
            body = convert_body(post.body_html, image_for=self.image_for, url_map=self.media_urls)
        finally:
            self._private_body = self._unlisted_body = False
        standfirst = html_to_text(post.excerpt)
        digest = checksum(
            [post.title, post.slug, post.date, post.live, body, standfirst, post.authors, post.categories, post.tags]
            + [post.replies_open, post.data]
        )
        model = ReportPage if post.kind == ImportedItem.Kind.REPORT else StandardPage
        item = self._item(post.kind, post.source_id)
        page = None
        if item is not None and item.object_id:
            # A record from an earlier import names a page written then; one of this batch
            # (no id yet) names a page of the batch, which the lookup writes first.
            with self._batch_aware() if item.pk is not None else nullcontext():
                page = model.objects.filter(pk=item.object_id).first()
        what = _("“%(title)s” (id %(id)s)") % {"title": post.title[:80], "id": post.source_id}
        title = self.result.cut(
            what, html_to_text(post.title) or post.title or _("Untitled"), TITLE_MAX_LENGTH, TITLE_CUT
        )
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
            parent_page = self.pages_by_source.get(post.parent_source_id)
            if parent_page is not None and not isinstance(parent_page.specific, ReportPage):
                parent = parent_page
            page = model(
                slug=self._free_slug(parent, post.slug, title), has_unpublished_changes=not post.live, **fields
            )
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
        self._redirects(page, post.old_links, what)
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
            # A page of this batch has no children in the database yet.
            with self._batch_aware():  # the batch's children of a parent are remembered here
                self._last_child_path[parent.pk] = None if parent.pk in batch.page_ids else last_child_path(parent)
        place_child(parent, page, after=self._last_child_path[parent.pk])
        with self._batch_aware():
            page.id = page.pk = self._ids.take(Page, 1, chunk=POST_BATCH)[0]
        self._last_child_path[parent.pk] = page.path
        if parent.pk not in batch.page_ids:  # a parent of this batch is written with its count
            batch.children[parent.pk] += 1
        batch.pages.append(page)
        batch.page_ids.add(page.pk)

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

    def _redirects(self, page: Page, links: list[str], what: str) -> None:
        own = Redirect.normalise_path(page.url_path[len(self.home.url_path) - 1 :]) if self.home else ""
        paths = list(dict.fromkeys(path for path in map(old_path, links) if path and path != "/" and path != own))
        for path in [path for path in paths if len(path) > REDIRECT_PATH_MAX_LENGTH]:
            paths.remove(path)
            self.result.note(
                what,
                _("no redirect from its old address %(path)s: it is longer than %(max)s characters")
                % {"path": path, "max": REDIRECT_PATH_MAX_LENGTH},
            )
        if not paths:
            return
        if self._redirect_paths is None:
            # Every old path once, so a page whose paths are all new needs no lookup.
            self._redirect_paths = set(Redirect.objects.filter(site=None).values_list("old_path", flat=True))
        known = [path for path in paths if path in self._redirect_paths]
        # No query when none is known: an empty ``__in`` matches nothing without asking.
        existing = {redirect.old_path: redirect for redirect in Redirect.objects.filter(old_path__in=known, site=None)}
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
            with self._batch_aware():
                thread_id = self._ids.take(Thread, 1, chunk=POST_BATCH)[0]
            thread = Thread(
                pk=thread_id,
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
        thread = get_or_create_thread(
            key, url=page.full_url or "", title=page.title, is_public=bool(page.live) and not restricted
        )
        changes = {}
        if thread.status != status:
            changes["status"] = status
        if opened and thread.opened_at != opened:
            changes["opened_at"] = opened
        if changes:
            Thread.objects.filter(pk=thread.pk).update(**changes)
        return thread

    def thread_for_url(self, key: str, address: str, url: str, title: str) -> Thread:
        """The thread of the imported or existing page ``address`` points at; without one, the
        external thread ``key`` (for ``url``)."""
        page = self._page_for_url(address)
        if page is not None:
            return self.thread_for_page(page)
        self.result.count("thread", "external")
        thread = get_or_create_thread(key[:255], url=url[:1000] if url.startswith(("http://", "https://")) else "")
        if title and not thread.title:
            Thread.objects.filter(pk=thread.pk).update(title=title[:500])
        return thread

    def _page_for_url(self, url: str) -> Page | None:
        if not url:
            return None
        path = urlsplit(url).path or "/"
        if not path.endswith("/"):
            path += "/"
        page = Page.objects.filter(url_path=self.home.url_path.rstrip("/") + path).first()
        if page is None:
            redirect = Redirect.objects.filter(old_path=old_path(url), redirect_page__isnull=False).first()
            page = redirect.redirect_page if redirect else None
        return page

    def save_replies(self, thread: Thread, comments: list[CommentData], prefix: str) -> None:
        """Store a thread's replies (``ReplyWriter.save``); a new thread's join its batch."""
        batch = self._batch
        if thread.pk not in batch.threads or thread.pk in batch.filled:
            self.replies.save(thread, comments, prefix, new=False)
            return
        with self._batch_aware():  # a thread of this batch has no replies in the database
            batch.replies.extend(self.replies.save(thread, comments, prefix, new=True))
        batch.filled.add(thread.pk)

    @contextmanager
    def session(self) -> Iterator[SiteWriter]:
        """The import's span: a statement on a table the batch holds rows for writes it first."""
        with connection.execute_wrapper(self._write_batch_first):
            yield self

    @contextmanager
    def _batch_aware(self) -> Iterator[None]:
        """Reads that account for the batch themselves: no write before them."""
        self._aware += 1
        try:
            yield
        finally:
            self._aware -= 1

    def _write_batch_first(self, execute, sql, params, many, context):
        if not self._aware and self._batch.touches(sql):
            self.flush()
        return execute(sql, params, many, context)

    def flush(self) -> None:
        batch, self._batch = self._batch, PageBatch()
        with self._batch_aware():
            batch.write()

    def finish(self) -> None:
        """Counts that span threads: each touched commenter's approved replies."""
        self.flush()
        ids = sorted(self.replies.touched_commenters)
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
