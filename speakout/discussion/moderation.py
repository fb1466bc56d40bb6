"""The moderation domain: queues of replies, the actions a moderator takes on them, search, and
the rows screens show. Any admin (the publishing app's screens, a command, another front end)
builds on this module; it knows nothing of where it is shown.

``perform`` is the one door for a moderator's decision. Status changes send ``reply_moderated``
(``signals.py``) inside the decision's transaction, so an app that tells the writer or learns
from the decision plugs in there, and the discussion never imports it.

Apps keep replies out of every queue with ``SPEAKOUT_DISCUSSION_MODERATION_EXCLUDE`` (dotted
paths of callables returning a filter expression; the safety app's evidence holds use it). An app
adds a queue of its own replies with ``add_queue`` (the federation's "Fediverse" tab), and links
beside a row with ``ROW_LINKS``; rows carry the ``ProvenIdentity`` an app vouches for.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.module_loading import import_string
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from . import services
from .app_settings import app_settings
from .html import ProvenIdentity, proven_identities
from .models import Commenter, Flag, ModerationLogEntry, Reply

#: Needed, besides the admin's own access, for every moderation screen.
MODERATE_PERMISSION = "speakout_discussion.change_reply"
#: Needed to see (and search by) commenters' email addresses: a permission of its own, so
#: granting it is a deliberate act, separate from moderating. Without it moderators know a
#: commenter by their opaque handle (docs/safety.md). Superusers have it.
EMAIL_PERMISSION = "speakout_discussion.view_commenter_email"
#: Needed, besides MODERATE_PERMISSION, to change the discussion rules.
SETTINGS_PERMISSION = "speakout_discussion.change_discussionsettings"

EXCERPT_LENGTH = 300


def can_moderate(user: Any) -> bool:
    return bool(user.is_active and user.has_perm(MODERATE_PERMISSION))


def can_see_email(user: Any) -> bool:
    return bool(user.has_perm(EMAIL_PERMISSION))


def can_edit_settings(user: Any) -> bool:
    return can_moderate(user) and bool(user.has_perm(SETTINGS_PERMISSION))


# Plain text from stored values -----------------------------------------------------------------


def plain_text(body_html: str) -> str:
    """The text of stored reply HTML, for showing *escaped*: tags dropped, entities decoded."""
    text = re.sub(r"<[^>]*>", " ", body_html or "")
    return " ".join(html.unescape(text).split())


def web_address(url: str) -> str:
    """``url`` if it is an http(s) address, else "" (no javascript:, data: or relative links)."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return ""
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return ""


# Actions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    status: str = ""  # the status set_status moves a reply to; empty for the other actions
    destructive: bool = False

    @property
    def removes(self) -> bool:
        """The decision takes the reply down (the writer may be sent a removal notice)."""
        return self.status in REMOVING_STATUSES


#: Permanent deletion is offered only for replies already out of sight.
DELETABLE_STATUSES = (Reply.Status.SPAM, Reply.Status.TRASH)
#: Decisions that take a reply down.
REMOVING_STATUSES = (Reply.Status.SPAM, Reply.Status.TRASH)

ACTIONS = {
    action.name: action
    for action in [
        Action("approve", _("Approve"), Reply.Status.APPROVED),
        Action("pending", _("Hold for review"), Reply.Status.PENDING),
        Action("dismiss", _("Keep and dismiss reports")),
        Action("spam", _("Mark as spam"), Reply.Status.SPAM),
        Action("trash", _("Move to trash"), Reply.Status.TRASH),
        Action("delete", _("Delete permanently"), destructive=True),
    ]
}


def perform(action: Action, reply: Reply, *, actor: Any = None, reason: str = "", notice: str = "") -> Reply | None:
    """Take ``action`` on ``reply``: the reply as it is now, or None once deleted.

    Deletion only reaches a reply already out of sight (``DELETABLE_STATUSES``); otherwise the
    reply is returned unchanged. Run it inside the caller's transaction to tie something to the
    decision. ``notice``: the organisation's kind words for the writer of a removed reply, carried
    by ``reply_moderated`` to whoever tells writers (only a removal carries it)."""
    if action.destructive:
        if reply.status not in DELETABLE_STATUSES:
            return reply
        services.delete_permanently(reply, actor=actor, reason=reason)
        return None
    if not action.status:
        services.resolve_flags(reply, actor=actor, reason=reason)
        return reply
    removal = action.status in (Reply.Status.SPAM, Reply.Status.TRASH)
    return services.set_status(reply, action.status, actor=actor, reason=reason, notice=notice if removal else "")


# Queues ---------------------------------------------------------------------------------------


def moderatable_replies() -> QuerySet[Reply]:
    """Every reply the queues may show: all but those another app keeps out of reach."""
    replies = Reply.objects.all()
    for path in app_settings.MODERATION_EXCLUDE:
        replies = replies.exclude(import_string(path)())
    return replies


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    actions: tuple[str, ...]
    empty_message: str
    #: An app's queue: its replies (a filter expression), in these statuses.
    only: Callable[[], Q] | None = None
    statuses: tuple[str, ...] = (Reply.Status.PENDING, Reply.Status.APPROVED)

    def queryset(self) -> QuerySet[Reply]:
        replies = moderatable_replies()
        if self.only is not None:
            return replies.filter(self.only(), status__in=self.statuses)
        if self.slug == "reported":
            return replies.filter(status=Reply.Status.APPROVED).filter(
                Exists(Flag.objects.filter(reply=OuterRef("pk"), resolved_at__isnull=True))
            )
        return replies.filter(status=self.slug)

    @property
    def available_actions(self) -> list[Action]:
        return [ACTIONS[name] for name in self.actions]


QUEUES = {
    queue.slug: queue
    for queue in [
        Queue("pending", _("Pending"), ("approve", "spam", "trash"), _("No reply is waiting for review.")),
        Queue("approved", _("Approved"), ("pending", "spam", "trash"), _("No reply has been approved yet.")),
        Queue(
            "reported",
            _("Reported"),
            ("dismiss", "pending", "spam", "trash"),
            _("No published reply has an open report."),
        ),
        Queue("spam", _("Spam"), ("approve", "trash", "delete"), _("The spam queue is empty.")),
        Queue("trash", _("Trash"), ("approve", "pending", "spam", "delete"), _("The trash is empty.")),
    ]
}


def add_queue(queue: Queue) -> None:
    """Another app's queue, shown after the discussion's own (call it in ``AppConfig.ready``)."""
    QUEUES[queue.slug] = queue


def queue_counts(request: Any = None) -> dict[str, int]:
    """How many replies each queue holds: one grouped count of statuses, one of open reports,
    one for each app's queue.

    An admin menu shows these on every page, so they are kept on the request when one is given."""
    counts: dict[str, int] | None = getattr(request, "_speakout_queue_counts", None)
    if counts is not None:
        return counts
    by_status = dict(moderatable_replies().order_by().values_list("status").annotate(count=Count("pk")))
    counts = {slug: by_status.get(slug, 0) for slug, queue in QUEUES.items() if queue.only is None}
    counts["reported"] = QUEUES["reported"].queryset().count()
    for slug, queue in QUEUES.items():
        if queue.only is not None:
            counts[slug] = queue.queryset().count()
    if request is not None:
        request._speakout_queue_counts = counts
    return counts


def search_replies(replies: QuerySet[Reply], query: str, *, include_email: bool) -> QuerySet[Reply]:
    """Replies whose text, author name, thread title or (if allowed) commenter email match."""
    query = query.strip()
    if not query:
        return replies
    matches = Q(body__icontains=query) | Q(author_name__icontains=query) | Q(thread__title__icontains=query)
    matches |= Q(commenter__handle=query.lower())
    if include_email:
        matches |= Q(commenter__email__icontains=query)
    return replies.filter(matches)


def email_proved(commenter: Commenter) -> bool:
    """Whether the commenter proved their address (a site account with it verified), without
    saying what it is: a guest's typed address proves nothing."""
    if commenter.user is None or not commenter.email:
        return False
    verified = {address.lower() for address in services.verified_addresses(commenter.user)}
    return commenter.email.lower() in verified


# Rows as screens see them ---------------------------------------------------------------------


@dataclass
class ModerationRow:
    reply: Reply
    text: str
    excerpt: str
    website: str
    thread_url: str
    reply_url: str
    open_flags: list[Flag]
    resolved_flag_count: int
    #: Who an app proved wrote it (a Fediverse account), and links apps offer beside it.
    identity: ProvenIdentity | None = None
    links: list[RowLink] = field(default_factory=list)

    @property
    def sensitive(self) -> bool:
        """Reported or held for review: blurred until the moderator chooses to read it."""
        return bool(self.open_flags) or self.reply.status == Reply.Status.PENDING

    @classmethod
    def build(cls, reply: Reply) -> ModerationRow:
        text = plain_text(reply.body_html)
        flags = list(reply.flags.all())  # prefetched
        thread_url = web_address(reply.thread.url)
        return cls(
            reply=reply,
            text=text,
            excerpt=Truncator(text).chars(EXCERPT_LENGTH),
            website=web_address(reply.author_website),
            thread_url=thread_url,
            reply_url=f"{thread_url}#{reply.anchor}" if thread_url else "",
            open_flags=[flag for flag in flags if flag.resolved_at is None],
            resolved_flag_count=sum(1 for flag in flags if flag.resolved_at is not None),
        )


@dataclass(frozen=True)
class RowLink:
    label: str
    url: str


# Apps add a function here (in AppConfig.ready): given the replies on a screen and the moderator,
# it answers {reply id: [RowLink]} (the federation's "Block domain…").
ROW_LINKS: list[Callable[[Sequence[Reply], Any], dict[int, list[RowLink]]]] = []


def reply_rows(replies: Iterable[Reply], user: Any = None) -> list[ModerationRow]:
    """Rows for ``replies``; with ``user``, each carries its proven identity and apps' links."""
    rows = [ModerationRow.build(reply) for reply in replies]
    if user is not None and rows:
        shown = [row.reply for row in rows]
        identities = proven_identities(shown)
        links: dict[int, list[RowLink]] = {}
        for source in ROW_LINKS:
            for reply_id, found in source(shown, user).items():
                links.setdefault(reply_id, []).extend(found)
        for row in rows:
            row.identity = identities.get(row.reply.pk)
            row.links = links.get(row.reply.pk, [])
    return rows


def with_row_relations(replies: QuerySet[Reply], *related: str) -> QuerySet[Reply]:
    """``replies`` with what a row reads, in three queries whatever their number; ``related``
    adds one-to-one relations other apps hang on a reply."""
    return replies.select_related("thread", "commenter", *related).prefetch_related(
        Prefetch("flags", queryset=Flag.objects.order_by("created_at", "pk"))
    )


LOG_ACTION_LABELS = {
    "approved": _("Approved"),
    "pending": _("Held for review"),
    "spam": _("Marked as spam"),
    "trash": _("Moved to trash"),
    "author_delete": _("Deleted by its author"),
    "delete": _("Deleted permanently"),
    "ban": _("Banned"),
    "unban": _("Unbanned"),
    "dismiss_reports": _("Reports dismissed"),
    "evidence_hold": _("Held as evidence"),
    "evidence_release": _("Released from evidence hold"),
    "ban_requested": _("Ban asked for (waiting for a second moderator)"),
    "ban_withdrawn": _("Ban request withdrawn"),
}


@dataclass
class LogRow:
    entry: ModerationLogEntry
    action_label: str
    actor_name: str
    reply_excerpt: str

    @classmethod
    def build(cls, entry: ModerationLogEntry) -> LogRow:
        actor = entry.actor
        actor_name = ""
        if actor is not None:
            actor_name = actor.get_full_name() or actor.get_username()
        reply_excerpt = ""
        if entry.reply is not None:
            reply_excerpt = Truncator(plain_text(entry.reply.body_html)).chars(80)
        return cls(
            entry=entry,
            action_label=str(LOG_ACTION_LABELS.get(entry.action, entry.action)),
            actor_name=actor_name,
            reply_excerpt=reply_excerpt,
        )


def log_rows(entries: Iterable[ModerationLogEntry]) -> list[LogRow]:
    return [LogRow.build(entry) for entry in entries]


def log_entries() -> QuerySet[ModerationLogEntry]:
    return ModerationLogEntry.objects.select_related("actor", "reply", "reply__thread", "commenter")
