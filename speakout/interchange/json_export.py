"""Everything as one JSON document: the pages of every Speakout page type with their own fields,
snippets, tags, threads with replies, commenters, reports of replies, the moderation log,
discussion settings, redirects, and every other row of Speakout's own apps (subscriptions,
contact messages, the outbox).

Written record by record, so memory stays flat however large the site is.
"""

from __future__ import annotations

import json

from django.apps import apps
from django.conf import settings
from django.core.serializers import serialize
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from taggit.models import Tag
from wagtail.contrib.redirects.models import Redirect
from wagtail.fields import StreamField
from wagtail.models import Page, PageViewRestriction

from speakout.discussion.models import Commenter, DiscussionSettings, Flag, ModerationLogEntry, Reply, Thread
from speakout.publishing.models import Author, Category, ReportAuthor, ReportPage, ReportTag, StandardPage

from .models import ImportedItem

FORMAT = "speakout-json"
VERSION = 1
# Models written in their own sections (a report's bylines and tags in its page row). Speakout's
# page types (``page_models``) go in "pages"; every other row of Speakout's apps under "other".
_STRUCTURED = {
    Author,
    Category,
    ReportAuthor,
    ReportTag,
    Commenter,
    DiscussionSettings,
    Flag,
    ModerationLogEntry,
    Reply,
    Thread,
    ImportedItem,
}
# A page row's "type": the two the first exports wrote keep their names; any other type is named
# after its model ("home", "reportindex", "contact"...).
_PAGE_TYPES = {ReportPage: "report", StandardPage: "page"}
# The columns those sections leave out; every other column goes, so a column added later is not
# lost on the way out. Left out: the keys that tie a reply or a report to a browser or a network
# (client_hash, guest_key), what Speakout derives again (a reply's thread, which holds it here, its
# tree path and avatar key; a thread's cache version) and a post's one-time submission id.
LEFT_OUT: dict[type, set[str]] = {
    Commenter: set(),
    Reply: {"thread_id", "path", "client_hash", "guest_key", "avatar_key", "submission_id"},
    Thread: {"version"},
    Flag: {"client_hash"},
    ModerationLogEntry: set(),
}
# Left out of the other rows, for the same reason as a reply's client hash and because the file
# leaves the server: the client hash keys, with which trying each /24 network against a stored
# hash (a contact message's, a ban's) names the one its writer used, those hashes themselves,
# the Fediverse actor's private key, which signs as the site, and the outbox's mail bodies, whose
# links (manage my replies, confirm, unsubscribe) work for whoever holds them.
OTHER_LEFT_OUT_MODELS = {"speakout_discussion.ClientKey"}
OTHER_LEFT_OUT_COLUMNS = {"client_hash", "private_pem", "text_body", "html_body"}


def page_models() -> list[type[Page]]:
    """Speakout's own page types, found from the models so that a type added later is exported
    too (written under "other", a page would lose its title and place in the tree, which are
    Wagtail's page row, not its type's)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, Page) and model._meta.app_label.startswith("speakout_") and not model._meta.proxy
    ]


def own_fields(model) -> list:
    """The columns of a page type's own table (Wagtail's page columns are written by name)."""
    return [field for field in model._meta.concrete_fields if field.model is not Page and not field.primary_key]


def columns(model) -> list[str]:
    """The columns of ``model`` its section writes."""
    return [field.attname for field in model._meta.concrete_fields if field.attname not in LEFT_OUT[model]]


def _dump(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


class JSONWriter:
    def __init__(self, out):
        self.out = out
        self._first_section = True
        self.counts: dict[str, int] = {}

    def section(self, name: str, rows) -> None:
        self.out.write(("" if self._first_section else ",\n") + f"{_dump(name)}: [")
        self._first_section = False
        count = 0
        for count, row in enumerate(rows, 1):
            self.out.write(("\n" if count == 1 else ",\n") + _dump(row))
        self.out.write("\n]")
        self.counts[name] = count

    def value(self, name: str, value) -> None:
        self.out.write(("" if self._first_section else ",\n") + f"{_dump(name)}: {_dump(value)}")
        self._first_section = False

    def write(self) -> None:
        self.out.write("{\n")
        self.value("format", FORMAT)
        self.value("version", VERSION)
        self.value("exported_at", timezone.now())
        self.value("site", {"name": settings.SITE_NAME, "base_url": settings.BASE_URL})
        self.section("authors", Author.objects.order_by("pk").values("id", "name", "slug", "bio"))
        parents = {
            item.source_id: item.data.get("parent", "")
            for item in ImportedItem.objects.filter(kind=ImportedItem.Kind.CATEGORY)
        }
        self.section(
            "categories",
            (
                {**row, "parent": parents.get(row["slug"], "")}
                for row in Category.objects.order_by("pk").values("id", "name", "slug", "description")
            ),
        )
        self.section("tags", Tag.objects.order_by("pk").values("id", "name", "slug"))
        self.section("pages", self._pages())
        self.section("threads", self._threads())
        # A commenter who asked to be forgotten waits for the purge here, not in a file that
        # would outlive it.
        self.section(
            "commenters",
            Commenter.objects.filter(forget_requested_at=None).order_by("pk").values(*columns(Commenter)).iterator(),
        )
        self.section("flags", Flag.objects.order_by("pk").values(*columns(Flag)))
        self.section(
            "moderation_log",
            ModerationLogEntry.objects.order_by("pk").values(*columns(ModerationLogEntry)).iterator(),
        )
        self.section("discussion_settings", DiscussionSettings.objects.values())
        self.section(
            "redirects",
            Redirect.objects.order_by("pk").values(
                "old_path", "is_permanent", "redirect_page_id", "redirect_link", "site_id"
            ),
        )
        self.section("imported_items", ImportedItem.objects.order_by("pk").values().iterator())
        self.section("other", self._other())
        self.out.write("\n}\n")

    def _pages(self):
        restrictions = set(PageViewRestriction.objects.values_list("page_id", flat=True))
        for model in page_models():
            fields = own_fields(model)
            # exact_type: a page of a type derived from this one is written once, with its own.
            pages = model.objects.exact_type(model).order_by("path")
            if model is ReportPage:
                pages = pages.prefetch_related("categories", "tagged_items__tag", "report_authors__author")
            for page in pages.iterator(chunk_size=200):
                row = {
                    "id": page.pk,
                    "type": _PAGE_TYPES.get(model, model._meta.model_name.removesuffix("page")),
                    "title": page.title,
                    "slug": page.slug,
                    "url_path": page.url_path,
                    "parent_id": Page.objects.parent_of(page).values_list("pk", flat=True).first(),
                    "live": page.live,
                    "restricted": page.pk in restrictions,
                    "first_published_at": page.first_published_at,
                    "last_published_at": page.last_published_at,
                    "go_live_at": page.go_live_at,
                    "seo_title": page.seo_title,
                    "search_description": page.search_description,
                }
                for field in fields:
                    value = getattr(page, field.attname)
                    # Block data as stored (a list of blocks), not the column's JSON text.
                    row[field.attname] = value.get_prep_value() if isinstance(field, StreamField) else value
                if model is ReportPage:
                    row.update(
                        categories=[c.slug for c in page.categories.all()],
                        tags=[t.tag.name for t in page.tagged_items.all()],
                        authors=[a.slug for a in page.authors],
                    )
                yield row

    def _threads(self):
        fields = columns(Reply)
        for thread in Thread.objects.order_by("pk").values(*columns(Thread)).iterator(chunk_size=200):
            replies = Reply.objects.filter(thread_id=thread["id"]).order_by("path", "pk").values(*fields)
            yield {**thread, "replies": list(replies)}

    def _other(self):
        written = _STRUCTURED.union(page_models())
        for model in apps.get_models():
            if not model._meta.app_label.startswith("speakout_") or model in written or model._meta.proxy:
                continue
            if model._meta.label in OTHER_LEFT_OUT_MODELS:
                continue
            for row in serialize("python", model.objects.order_by("pk").iterator(chunk_size=500)):
                for name in OTHER_LEFT_OUT_COLUMNS.intersection(row["fields"]):
                    del row["fields"][name]
                yield row


def export_json(out) -> JSONWriter:
    writer = JSONWriter(out)
    writer.write()
    return writer
