"""The read path: one thread's replies in reading order, with a constant number of queries.

Replies are fetched in one query ordered by their materialised path, then arranged in Python.
Large threads page by top-level reply: a page is a contiguous range of paths, so it is still one
query. A reader also sees their own held replies, marked as awaiting moderation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.safestring import SafeString

from .clients import guest_keys
from .models import PATH_SEGMENT_LENGTH, DiscussionSettings, Reply, Thread

HELD_STATUSES = (Reply.Status.PENDING, Reply.Status.SPAM)
# Rendered reply lists are kept this long unused; the thread's version in their key, not their
# age, decides whether they are current.
LISTING_CACHE_SECONDS = 24 * 3600

ROW_FIELDS = (
    "id", "parent_id", "path", "depth", "author_name", "author_website", "body_html",
    "status", "created_at", "edited_at", "user_id", "guest_key", "thread_id", "avatar_key",
)  # fmt: skip


@dataclass(slots=True)
class ReplyRow:
    """What a page shows of a reply: read as plain values, which is several times faster than
    building model instances for a long thread."""

    id: int
    parent_id: int | None
    path: str
    depth: int
    author_name: str
    author_website: str
    body_html: str
    status: str
    created_at: object
    edited_at: object
    user_id: int | None
    guest_key: str
    thread_id: int
    avatar_key: str

    @property
    def pk(self) -> int:
        return self.id


@dataclass
class ReplyNode:
    reply: Reply | ReplyRow
    display_depth: int
    in_reply_to: str = ""  # shown when nesting is flattened at the deepest level
    own: bool = False
    can_change: bool = False
    before: SafeString = field(default_factory=lambda: NO_TAGS)


@dataclass
class ThreadPage:
    thread: Thread
    nodes: list[ReplyNode]
    page_number: int
    page_count: int
    closing_tags: SafeString

    @property
    def count(self) -> int:
        return self.thread.approved_count

    @property
    def has_other_pages(self) -> bool:
        return self.page_count > 1


def _own(user, guest_token: str) -> Q | None:
    """The reader's replies (by account or guest token), or None for a reader with neither."""
    own = None
    if user is not None and getattr(user, "is_authenticated", False):
        own = Q(user_id=user.pk)
    keys = guest_keys(guest_token)
    if keys:
        # A guest token reaches guests' replies only: an account's reply is not the browser's.
        by_token = Q(guest_key__in=keys, user_id__isnull=True)
        own = by_token if own is None else own | by_token
    return own


def visible_replies(thread: Thread, *, user=None, guest_token: str = ""):
    """Approved replies, plus the reader's own held ones."""
    own = _own(user, guest_token)
    shown = Q(status=Reply.Status.APPROVED)
    if own is not None:
        shown |= own & Q(status__in=HELD_STATUSES)
    return Reply.objects.filter(thread=thread).filter(shown)


def shows_own_replies(thread: Thread, *, user=None, guest_token: str = "") -> bool:
    """Whether the reader has a reply on show in the thread (approved, or held and so shown to
    them alone). A reader without one sees exactly what an anonymous reader sees, so the shared,
    cached rendering of the thread serves them too."""
    own = _own(user, guest_token)
    if own is None:
        return False
    return Reply.objects.filter(own, thread=thread, status__in=(Reply.Status.APPROVED, *HELD_STATUSES)).exists()


def visible_reply(reply_id: int, *, user=None, guest_token: str = "") -> Reply | None:
    """A reply the reader may see (approved, or their own held one) in a public, shown thread;
    None for any other, so a reply that exists and one that does not answer alike."""
    reply = (
        Reply.objects.select_related("thread")
        .filter(pk=reply_id, thread__is_public=True)
        .exclude(thread__status=Thread.Status.HIDDEN)
        .first()
    )
    if reply is None or reply.status == Reply.Status.APPROVED:
        return reply
    return reply if reply.status in HELD_STATUSES and wrote(reply, user=user, guest_token=guest_token) else None


def wrote(reply: Reply, *, user=None, guest_token: str = "") -> bool:
    """Whether the reader (an account, else a guest token) wrote the reply."""
    if reply.user_id is not None:
        return user is not None and getattr(user, "is_authenticated", False) and reply.user_id == user.pk
    return bool(reply.guest_key) and reply.guest_key in guest_keys(guest_token)


def approved_counts(keys: list[str]) -> dict[str, int]:
    """Approved replies of each thread key; threads that are unknown, private or hidden count 0."""
    found = dict(
        Thread.objects.filter(key__in=keys, is_public=True)
        .exclude(status=Thread.Status.HIDDEN)
        .values_list("key", "approved_count")
    )
    return {key: found.get(key, 0) for key in keys}


def load_thread_page(
    thread: Thread,
    *,
    rules: DiscussionSettings,
    page_number: int = 1,
    user=None,
    guest_token: str = "",
    newest_first: bool | None = None,
) -> ThreadPage:
    newest_first = rules.newest_first if newest_first is None else newest_first
    replies = visible_replies(thread, user=user, guest_token=guest_token)
    top_level = replies.filter(depth=0).order_by("-path" if newest_first else "path").values_list("path", flat=True)
    per_page = max(1, rules.replies_per_page)
    page_number = max(1, page_number)
    roots = []
    next_root = None  # on page 1, the first root of page 2 (one more than the page was read)
    if page_number == 1:
        # Most threads fit on one page: one query tells us so, without counting.
        roots = list(top_level[: per_page + 1])
        page_count = 1 if len(roots) <= per_page else math.ceil(top_level.count() / per_page)
        if len(roots) > per_page:
            next_root = roots[per_page]
        roots = roots[:per_page]
    else:
        page_count = max(1, math.ceil(top_level.count() / per_page))
        page_number = min(page_number, page_count)
        start = (page_number - 1) * per_page
        roots = list(top_level[start : start + per_page])

    if page_count == 1:
        in_range = replies  # the whole thread, including replies whose top-level reply is gone
    else:
        # A page is a contiguous range of paths: from its lowest root (or the start, if no root
        # sorts before it) up to the next page's lowest root (or the end). Replies whose
        # top-level reply was removed fall in a gap between roots and go with the roots before it.
        low, high = min(roots), max(roots)
        all_roots = replies.filter(depth=0).values_list("path", flat=True)
        if next_root is not None:
            # Page 1 holds the lowest roots (oldest first) or the highest (newest first), and
            # the root read past its end tells the rest without two more scans of the thread.
            roots_before = newest_first
            following = None if newest_first else next_root
        else:
            roots_before = all_roots.filter(path__lt=low).exists()
            following = all_roots.filter(path__gt=high).order_by("path").first()
        in_range = replies
        if roots_before:
            in_range = in_range.filter(path__gte=low)
        if following is not None:
            in_range = in_range.filter(path__lt=following)
    rows = [ReplyRow(*values) for values in in_range.order_by("path").values_list(*ROW_FIELDS)]

    nodes = _arrange(rows, rules.max_depth, newest_first, user, guest_keys(guest_token))
    closing = _add_nesting_tags(nodes)
    return ThreadPage(thread, nodes, page_number, page_count, closing)


def _arrange(rows: list[Reply], max_depth: int, newest_first: bool, user, keys: tuple[str, ...]) -> list[ReplyNode]:
    by_id = {reply.pk: reply for reply in rows}
    id_by_path = {reply.path: reply.pk for reply in rows}
    depth_of: dict[int, int] = {}
    deepest = max(1, max_depth) - 1
    user_id = getattr(user, "pk", None) if user is not None and getattr(user, "is_authenticated", False) else None
    nodes: list[ReplyNode] = []
    for reply in rows:
        parent = by_id.get(reply.parent_id) if reply.parent_id else None
        if parent is not None and parent.pk in depth_of:
            depth = depth_of[parent.pk] + 1
        else:
            depth = _depth_under_nearest_ancestor(reply, id_by_path, depth_of) if reply.parent_id else 0
        depth_of[reply.pk] = depth
        display_depth = min(depth, deepest)
        in_reply_to = parent.author_name if parent is not None and depth > display_depth else ""
        if reply.user_id is not None:
            own = reply.user_id == user_id
        else:
            own = bool(reply.guest_key) and reply.guest_key in keys
        nodes.append(ReplyNode(reply, display_depth, in_reply_to, own))
    if newest_first:
        nodes = _roots_reversed(nodes)
    return nodes


def _depth_under_nearest_ancestor(reply: Reply, id_by_path: dict[str, int], depth_of: dict[int, int]) -> int:
    """When the parent is not shown (held, removed), nest under the closest ancestor that is."""
    path = reply.path[:-PATH_SEGMENT_LENGTH]
    while path:
        ancestor_id = id_by_path.get(path)
        if ancestor_id is not None and ancestor_id in depth_of:
            return depth_of[ancestor_id] + 1
        path = path[:-PATH_SEGMENT_LENGTH]
    return 0


def _roots_reversed(nodes: list[ReplyNode]) -> list[ReplyNode]:
    groups: list[list[ReplyNode]] = []
    for node in nodes:
        if node.display_depth == 0 or not groups:
            groups.append([node])
        else:
            groups[-1].append(node)
    return [node for group in reversed(groups) for node in group]


NO_TAGS = SafeString("")
OPEN_LEVEL = SafeString('<ol class="replies replies--nested">')
CLOSE_ITEM = SafeString("</li>")
CLOSE_LEVEL = SafeString("</ol></li>")


def _closing_tags(levels: int) -> SafeString:
    tags = CLOSE_ITEM
    for _level in range(levels):
        tags += CLOSE_LEVEL  # SafeString + SafeString stays safe
    return tags


def _add_nesting_tags(nodes: list[ReplyNode]) -> SafeString:
    """Turn the flat, ordered list into nested lists: each node gets the tags to emit before its
    <li>. Only the fixed tags above are produced here; reply content is escaped by the renderer."""
    previous = None
    for node in nodes:
        depth = node.display_depth
        if previous is None:
            tags = NO_TAGS
            depth = 0 if depth > 0 else depth
            node.display_depth = depth
        elif depth > previous:
            depth = previous + 1
            node.display_depth = depth
            tags = OPEN_LEVEL
        else:
            tags = _closing_tags(previous - depth)
        node.before = tags
        previous = depth
    if previous is None:
        return NO_TAGS
    return _closing_tags(previous)
