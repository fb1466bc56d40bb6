"""Writes a thread's imported replies with their tree: new ones in bulk, known ones updated
unless someone here moderated or edited them, and none that was deleted here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from speakout.discussion import signals
from speakout.discussion.models import (
    PATH_SEGMENT_LENGTH,
    Commenter,
    ModerationLogEntry,
    RemovedReply,
    Reply,
    Thread,
    path_segment,
)
from speakout.discussion.rendering import render_markdown, sanitise
from speakout.discussion.services import MAX_PATH_DEPTH

from .html import autop
from .result import NAME_CUT, ImportResult
from .rows import IdAllocator, insert_rows

BATCH_SIZE = 1000
# What a reply's row can hold; an imported value that does not fit is noted (see ``_fit``).
NAME_MAX_LENGTH = Reply._meta.get_field("author_name").max_length
WEBSITE_MAX_LENGTH = Reply._meta.get_field("author_website").max_length
EMAIL_MAX_LENGTH = Commenter._meta.get_field("email").max_length
EXTERNAL_ID_MAX_LENGTH = Reply._meta.get_field("external_id").max_length


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


# The columns a new reply's row fills in; every other column of a reply gets its default.
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


@dataclass
class ThreadReplies:
    """One thread's replies from the file, against what the database already holds."""

    thread: Thread
    prefix: str
    by_id: dict[str, CommentData] = field(default_factory=dict)  # source id → reply
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)  # source id → stored row
    removed: dict[str, datetime] = field(default_factory=dict)  # deleted here (when): never brought back
    decided: set[int] = field(default_factory=set)  # reply ids a moderator decided on
    parent_of: dict[str, str] = field(default_factory=dict)
    depth_of: dict[str, int] = field(default_factory=dict)

    @property
    def new_ids(self) -> list[str]:
        return [sid for sid in self.by_id if sid not in self.existing]


class ReplyWriter:
    """``save(thread, comments, prefix)`` for every thread of an import. A new thread's replies
    join the batch of the page they belong to (``pending``); others are written at once."""

    def __init__(self, result: ImportResult, ids: IdAllocator, tick: Callable[[int, int], None]):
        self.result = result
        self.ids = ids
        self.tick = tick
        self.touched_commenters: set[int] = set()
        self._commenter_ids: dict[str, int] = {}  # email → commenter, across threads

    # Asked once per import: on most sites nothing imported was ever deleted or moderated, and a
    # re-import then needs no look-up per thread.
    @cached_property
    def _site_removed_imported_replies(self) -> bool:
        return RemovedReply.objects.exists()

    @cached_property
    def _site_moderated_imported_replies(self) -> bool:
        return ModerationLogEntry.objects.filter(reply__external_id__gt="").exists()

    def save(self, thread: Thread, comments: list[CommentData], prefix: str, *, new: bool) -> list[tuple[Any, ...]]:
        """Store a thread's replies with their tree. A reply whose parent is missing joins the
        thread at the top; a reply may come before its parent in the file. ``new``: the thread
        is not written yet, so nothing is looked up and the rows are returned for its batch."""
        state = ThreadReplies(thread, prefix, by_id=self._unique(thread, comments, prefix))
        if not new:
            self._read_known(state)
        self._parents(state)
        for sid in state.new_ids:
            self._depth(state, sid)
        updated = self._update_known(state)
        rows = self._new_rows(state, write=not new)
        approved = sum(state.by_id[sid].status == Reply.Status.APPROVED for sid in state.new_ids)
        if new:
            self.result.count("reply", "created", len(rows))
            self.tick(0, len(rows))
            if state.new_ids:
                # The thread row carries the count and version bump an update would have given it.
                thread.approved_count = approved
                thread.version += 1
            return rows
        self._insert(rows)
        if updated or (state.new_ids and (state.existing or thread.approved_count)):
            thread.refresh_approved_count()
        elif state.new_ids:
            # The thread had no approved reply (its count is kept by every change): count the new
            # ones here instead of in the database.
            Thread.objects.filter(pk=thread.pk).update(approved_count=approved, version=F("version") + 1)
        return []

    def _unique(self, thread: Thread, comments: list[CommentData], prefix: str) -> dict[str, CommentData]:
        by_id: dict[str, CommentData] = {}
        longest_id = EXTERNAL_ID_MAX_LENGTH - len(prefix)
        for comment in comments:
            if not comment.source_id:
                self.result.skip(_("a reply in “%(thread)s”") % {"thread": thread}, _("it has no id"))
            elif len(comment.source_id) > longest_id:
                # A cut id could be another reply's on the next import.
                self.result.skip(
                    _("reply %(id)s") % {"id": comment.source_id},
                    _("its id is longer than %(max)s characters") % {"max": longest_id},
                )
            elif comment.source_id in by_id:
                self.result.skip(
                    _("reply %(id)s") % {"id": comment.source_id}, _("the same id appears twice in the file")
                )
            else:
                by_id[comment.source_id] = comment
                self._fit(comment)
        return by_id

    def _read_known(self, state: ThreadReplies) -> None:
        """The thread's stored replies from this source. What was decided here wins over the
        file: a reply deleted here (by its author, a moderator or the purge) is not brought
        back, and one a moderator moved (spam, trash, an evidence hold) or someone edited keeps
        its status and text."""
        thread, prefix = state.thread, state.prefix
        state.existing = {
            row["external_id"][len(prefix) :]: row
            for row in Reply.objects.filter(thread=thread, external_id__startswith=prefix).values(
                "id", "external_id", "status", "body", "kind", "path", "depth", "commenter_id", "edited_at"
            )
        }
        if self._site_removed_imported_replies:
            state.removed = {
                external_id[len(prefix) :]: removed_at
                for external_id, removed_at in RemovedReply.objects.filter(
                    thread=thread, external_id__startswith=prefix
                ).values_list("external_id", "removed_at")
            }
        if state.existing and self._site_moderated_imported_replies:
            state.decided = set(
                ModerationLogEntry.objects.filter(reply__thread=thread, reply__external_id__startswith=prefix)
                .values_list("reply_id", flat=True)
                .distinct()
            )
        for sid in state.removed.keys() & state.by_id.keys():
            del state.by_id[sid]
            self.result.count("reply", "deleted here")
            when = timezone.localdate(state.removed[sid]).isoformat()
            self.result.skip(
                _("reply %(id)s") % {"id": sid},
                _("it was deleted here on %(date)s; importing does not bring it back") % {"date": when},
            )

    def _parents(self, state: ThreadReplies) -> None:
        """Each reply's parent; a missing one makes the reply top-level."""
        for sid, comment in state.by_id.items():
            parent = comment.parent_id if comment.parent_id and comment.parent_id != "0" else ""
            if parent and parent not in state.by_id and parent not in state.existing:
                if parent in state.removed:
                    why = _("its parent %(parent)s was deleted here; it joins the thread at the top")
                else:
                    why = _("its parent %(parent)s is not in the file; it joins the thread at the top")
                self.result.note(_("reply %(id)s") % {"id": sid}, why % {"parent": parent})
                parent = ""
            state.parent_of[sid] = parent

    def _depth(self, state: ThreadReplies, sid: str) -> None:
        """A new reply's depth, walking up to a known one; a loop of parents is broken at the top."""
        existing, depth_of, parent_of = state.existing, state.depth_of, state.parent_of
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

    def _update_known(self, state: ThreadReplies) -> list[Reply]:
        """Updates to replies already stored: status, text and kind only (the tree stays)."""
        updated, withdrawn = [], []
        kept_here = 0
        for sid, row in state.existing.items():
            comment = state.by_id.get(sid)
            if comment is None:
                continue
            status, kind = comment.status, comment.kind
            if (row["status"], row["body"], row["kind"]) == (comment.status, comment.body, comment.kind):
                self.result.count("reply", "unchanged")
            elif row["id"] in state.decided or row["edited_at"] is not None:
                kept_here += 1
                status, kind = row["status"], row["kind"]
            else:
                updated.append(
                    Reply(
                        pk=row["id"],
                        status=comment.status,
                        body=comment.body,
                        body_html=reply_html(comment),
                        kind=comment.kind,
                    )
                )
                if row["status"] == Reply.Status.APPROVED != comment.status:
                    withdrawn.append(row["id"])
            self.result.replies_by_status[status] += 1
            self.result.replies_by_kind[kind] += 1
            self.result.max_depth = max(self.result.max_depth, row["depth"])
        if updated:
            Reply.objects.bulk_update(updated, ["status", "body", "body_html", "kind"], batch_size=BATCH_SIZE)
            self.result.count("reply", "updated", len(updated))
        # Taken out of sight as a moderator would: whatever carried it elsewhere takes it back.
        for reply in Reply.objects.filter(pk__in=withdrawn):
            signals.reply_moderated.send(
                sender=Reply,
                reply=reply,
                old_status=Reply.Status.APPROVED,
                new_status=reply.status,
                actor=None,
                reason="",
                action="import",
                notice="",
            )
        if kept_here:
            self.result.count("reply", "kept as changed here", kept_here)
            self.result.note(
                str(state.thread),
                ngettext(
                    "%(count)s reply differs from the file but was moderated or edited here; it was left as it is",
                    "%(count)s replies differ from the file but were moderated or edited here; they were left as "
                    "they are",
                    kept_here,
                )
                % {"count": kept_here},
            )
        return updated

    def _new_rows(self, state: ThreadReplies, *, write: bool) -> list[tuple[Any, ...]]:
        """The rows of the new replies, parents first, with ids and tree paths. ``write``: write
        them every BATCH_SIZE rows and return the rest."""
        new_ids = state.new_ids
        commenters = self._commenters([state.by_id[sid] for sid in new_ids])
        ids = dict(zip(new_ids, self.ids.take(Reply, len(new_ids), chunk=BATCH_SIZE), strict=True))
        paths: dict[str, str] = {sid: row["path"] for sid, row in state.existing.items()}
        pks: dict[str, int] = {sid: row["id"] for sid, row in state.existing.items()}
        pks.update(ids)
        rows: list[tuple[Any, ...]] = []
        anonymous = _("Anonymous")
        thread = state.thread
        for sid in sorted(new_ids, key=lambda s: state.depth_of[s]):
            comment = state.by_id[sid]
            parent = state.parent_of[sid]
            level = state.depth_of[sid]
            base = paths.get(parent, "") if parent else ""
            if parent and level >= MAX_PATH_DEPTH:
                base = base[:-PATH_SEGMENT_LENGTH]
            paths[sid] = base + path_segment(ids[sid])
            rows.append(
                (
                    ids[sid],
                    thread.pk,
                    pks[parent] if parent else None,
                    paths[sid],
                    level,
                    comment.kind,
                    commenters.get(comment.email) if comment.email else None,
                    comment.author_name or anonymous,
                    comment.website,
                    comment.body,
                    reply_html(comment),
                    comment.status,
                    comment.created_at or thread.opened_at,
                    f"{state.prefix}{sid}",
                )
            )
            self.result.replies_by_status[comment.status] += 1
            self.result.replies_by_kind[comment.kind] += 1
            self.result.max_depth = max(self.result.max_depth, level)
            if write and len(rows) >= BATCH_SIZE:
                self._insert(rows)
                rows = []
        return rows

    def _fit(self, comment: CommentData) -> None:
        """The author's name, address and website as the reply keeps them: a name too long is
        cut, an address or website that is none is left out (a cut one would be another's), and
        the report says which."""
        what = _("reply %(id)s") % {"id": comment.source_id}
        comment.author_name = self.result.cut(what, comment.author_name, NAME_MAX_LENGTH, NAME_CUT)
        email, website = comment.email.strip(), comment.website.strip()
        comment.email = email if "@" in email and " " not in email and len(email) <= EMAIL_MAX_LENGTH else ""
        if email and not comment.email:
            self.result.note(
                what,
                _("the email address was left out: it has no “@”, has a space or is longer than %(max)s characters")
                % {"max": EMAIL_MAX_LENGTH},
            )
        usable = website.startswith(("http://", "https://")) and len(website) <= WEBSITE_MAX_LENGTH
        comment.website = website if usable else ""
        if website and not usable:
            self.result.note(
                what,
                _("the website was left out: it is not an http or https address of at most %(max)s characters")
                % {"max": WEBSITE_MAX_LENGTH},
            )

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        insert_rows(Reply, REPLY_COLUMNS, rows)
        self.result.count("reply", "created", len(rows))
        self.tick(0, len(rows))

    def _commenters(self, comments: list[CommentData]) -> dict[str, int]:
        wanted: dict[str, CommentData] = {}
        for comment in comments:
            if comment.email and comment.email not in wanted:
                wanted[comment.email] = comment
        if not wanted:
            return {}
        found = {email: self._commenter_ids[email] for email in wanted if email in self._commenter_ids}
        unknown = [email for email in wanted if email not in found]
        if unknown:
            # A proven record only: a guest's typed claim to the address must not get the
            # organisation's replies (nor their approvals, which its guest token would carry).
            # Through the partial unique index of proven addresses: the query names both of its
            # conditions, as SQLite needs to use it (no other index holds the exact address).
            proven = (
                Commenter.objects.filter(email__in=unknown)
                .exclude(address_proof=Commenter.AddressProof.TYPED)
                .exclude(email="")
            )
            found.update(proven.values_list("email", "id"))
        missing = [
            Commenter(
                email=email,
                address_proof=Commenter.AddressProof.IMPORTED,
                display_name=c.author_name,
                website=c.website,
            )
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


def reply_html(comment: CommentData) -> str:
    if comment.html is not None:
        return sanitise(comment.html)
    if not comment.body:
        return ""
    return render_markdown(comment.body) if comment.markdown else sanitise(autop(comment.body))
