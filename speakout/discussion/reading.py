"""The read path: one thread's replies in reading order, with a constant number of queries.

Replies are fetched in one query ordered by their materialised path, then arranged in Python.
Large threads page by top-level reply: a page is a contiguous range of paths, so it is still one
query. A reader also sees their own held replies, marked as awaiting moderation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe

from .clients import guest_key
from .models import PATH_SEGMENT_LENGTH, DiscussionSettings, Reply, Thread

HELD_STATUSES = (Reply.Status.PENDING, Reply.Status.SPAM)


@dataclass
class ReplyNode:
    reply: Reply
    display_depth: int
    in_reply_to: str = ""  # shown when nesting is flattened at the deepest level
    own: bool = False
    can_change: bool = False
    before: SafeString = field(default_factory=lambda: mark_safe(""))


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


def visible_replies(thread: Thread, *, user=None, guest_token: str = ""):
    """Approved replies, plus the reader's own held ones."""
    own = Q(pk__in=[])
    if user is not None and getattr(user, "is_authenticated", False):
        own |= Q(user_id=user.pk)
    key = guest_key(guest_token)
    if key:
        own |= Q(guest_key=key)
    return Reply.objects.filter(thread=thread).filter(
        Q(status=Reply.Status.APPROVED) | (own & Q(status__in=HELD_STATUSES))
    )


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
    paginator = Paginator(top_level, rules.replies_per_page)
    page_count = max(1, paginator.num_pages)
    page_number = min(max(1, page_number), page_count)
    roots = list(paginator.page(page_number).object_list) if paginator.count else []

    if roots:
        low, high = min(roots), max(roots)
        # Everything from the first root's subtree to the end of the last root's subtree.
        in_range = replies.filter(path__gte=low, path__lt=high + "~")
        # Replies filed at the path-depth cap, or whose top-level ancestor is gone, belong to the
        # root their path starts with; the range covers them too.
        rows = list(
            in_range.order_by("path").only(
                "id",
                "parent_id",
                "path",
                "depth",
                "author_name",
                "author_website",
                "body_html",
                "status",
                "created_at",
                "edited_at",
                "user_id",
                "guest_key",
                "thread_id",
            )
        )
    else:
        rows = []

    nodes = _arrange(rows, rules.max_depth, newest_first, user, guest_key(guest_token))
    closing = _add_nesting_tags(nodes)
    return ThreadPage(thread, nodes, page_number, page_count, closing)


def _arrange(rows: list[Reply], max_depth: int, newest_first: bool, user, key: str) -> list[ReplyNode]:
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
        own = (user_id is not None and reply.user_id == user_id) or (bool(key) and reply.guest_key == key)
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


def _add_nesting_tags(nodes: list[ReplyNode]) -> SafeString:
    """Turn the flat, ordered list into nested lists: each node gets the tags to emit before its
    <li>. Only fixed tags are produced here; reply content is escaped by the template."""
    previous = None
    for node in nodes:
        depth = node.display_depth
        if previous is None:
            tags = ""
            depth = 0 if depth > 0 else depth
            node.display_depth = depth
        elif depth > previous:
            depth = previous + 1
            node.display_depth = depth
            tags = '<ol class="replies replies--nested">'
        else:
            tags = "</li>" + "</ol></li>" * (previous - depth)
        node.before = mark_safe(tags)
        previous = depth
    if previous is None:
        return mark_safe("")
    return mark_safe("</li>" + "</ol></li>" * previous)
