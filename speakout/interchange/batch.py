"""A batch of new posts, written with one statement per table (on PostgreSQL the replies with
COPY). Ids are chosen when a row joins the batch (``rows.IdAllocator``), so the rows can refer
to each other before any is written."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F
from django.utils import timezone
from modelcluster.models import get_all_child_m2m_relations, get_all_child_relations
from wagtail.contrib.redirects.models import Redirect
from wagtail.log_actions import get_active_log_context
from wagtail.models import Page, PageLogEntry

from speakout.discussion.models import Reply, Thread, thread_dependency
from speakout.pagecache import versions
from speakout.publishing.models import ReportAuthor, ReportPage

from .models import ImportedItem
from .replies import REPLY_COLUMNS
from .rows import insert_objects, insert_rows


@dataclass
class PageBatch:
    """New rows kept until a batch of posts is complete: a new post's page, its log entry, import
    record, redirects, filing, thread and replies, written together by ``write``."""

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

    def tables(self) -> set[str]:
        """The quoted names of the tables this batch holds rows for."""
        models: set[type] = set()
        if self.pages:
            models |= {Page, PageLogEntry, ReportPage.tags.through, *(type(page) for page in self.pages)}
        if self.categories:
            models.add(ReportPage.categories.through)
        if self.authors:
            models.add(ReportAuthor)
        if self.items:
            models.add(ImportedItem)
        if self.redirects:
            models.add(Redirect)
        if self.threads:
            models.add(Thread)
        if self.replies:
            models.add(Reply)
        return {connection.ops.quote_name(model._meta.db_table) for model in models}

    def touches(self, sql: str) -> bool:
        """Whether the statement ``sql`` reads or writes a table this batch holds rows for."""
        return bool(self) and any(table in sql for table in self.tables())

    def write(self) -> None:
        """Write the batch: each table's new rows with one statement, in the order of their
        references. New pages get what Wagtail's save gives a page added by code (the creation
        log entry, tags, search and reference indexing) without a statement per page: their
        index updates go to the worker as one task per batch."""
        if not self:
            return
        if self.pages:
            insert_objects(Page, self.pages)
            for model in dict.fromkeys(type(page) for page in self.pages):
                insert_objects(model, [page for page in self.pages if type(page) is model])
            for parent, count in self.children.items():
                Page.objects.filter(pk=parent).update(numchild=F("numchild") + count)
            context = get_active_log_context()
            now = timezone.now()
            for page in self.pages:
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
                for page in self.pages
            )
            for page in self.tagged:
                # What ClusterableModel.save commits after the page's own row.
                for relation in get_all_child_relations(page):
                    getattr(page, relation.get_accessor_name()).commit()
                for m2m in get_all_child_m2m_relations(page):
                    getattr(page, m2m.name).commit()
        # bulk_create of nothing asks nothing.
        ReportPage.categories.through.objects.bulk_create(self.categories)
        ReportAuthor.objects.bulk_create(self.authors)
        ImportedItem.objects.bulk_create(self.items)
        Redirect.objects.bulk_create(self.redirects)
        if self.threads:
            threads = list(self.threads.values())
            Thread.objects.bulk_create(threads)
            for thread in threads:
                thread._state.adding, thread._state.db = False, connection.alias
            versions.bump(*(thread_dependency(thread.key) for thread in threads))
        insert_rows(Reply, REPLY_COLUMNS, self.replies)
        if self.pages:
            from .tasks import index_pages_task

            index_pages_task.enqueue([page.pk for page in self.pages])
