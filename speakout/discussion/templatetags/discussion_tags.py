from django import template
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from speakout.pagecache.capture import depends_on, keep_private

from ..clients import read_guest_token
from ..feeds import thread_feed_url
from ..forms import parse_id
from ..html import render_reply_list
from ..models import SETTINGS_DEPENDENCY, DiscussionSettings, Reply, Thread, thread_dependency
from ..reading import LISTING_CACHE_SECONDS, load_thread_page, shows_own_replies
from ..views import discussion_notices, reply_form_context

register = template.Library()


def _listing(
    request, thread: Thread, rules: DiscussionSettings, *, page_number, newest_first, user, guest_token, accepts
):
    """The rendered reply list and its paging. Readers with nothing of their own in it (no
    account or guest token, or no reply of theirs on show: most signed-in readers) all see the
    same list, so theirs is cached under the thread's version, which every visible change
    bumps: a new approved reply shows on the next request."""
    shared = not shows_own_replies(thread, user=user, guest_token=guest_token)
    key = None
    if not shared:
        keep_private(request)
    if shared:
        key = (
            f"speakout:discussion:list:{thread.pk}:{thread.version}:{get_language()}:{page_number}:"
            f"{newest_first}:{accepts}:{rules.max_depth}:{rules.replies_per_page}:{rules.newest_first}"
        )
        cached = cache.get(key)
        if cached is not None:
            return cached
    page = load_thread_page(
        thread, rules=rules, page_number=page_number, user=user, guest_token=guest_token, newest_first=newest_first
    )
    window = timezone.timedelta(minutes=rules.edit_window_minutes)
    now = timezone.now()
    for node in page.nodes:
        node.can_change = node.own and now <= node.reply.created_at + window
    listing = {
        "html": render_reply_list(page.nodes, page.closing_tags, accepts_replies=accepts),
        "has_replies": bool(page.nodes),
        "page_number": page.page_number,
        "page_count": page.page_count,
        "has_other_pages": page.has_other_pages,
    }
    if key is not None:
        cache.set(key, listing, LISTING_CACHE_SECONDS)
    return listing


@register.inclusion_tag("discussion/thread.html", takes_context=True)
def discussion(context, thread: Thread):
    """The whole discussion block for a thread: count, replies, and the Leave a Reply form."""
    request = context["request"]
    # A page cached for anonymous readers is retired when this thread or the rules change.
    depends_on(request, thread_dependency(thread.key), SETTINGS_DEPENDENCY)
    rules = DiscussionSettings.load()
    newest_first = {"newest": True, "oldest": False}.get(request.GET.get("replies"))
    try:
        page_number = max(1, int(request.GET.get("replies_page", "1")))
    except ValueError:
        page_number = 1
    user = request.user if request.user.is_authenticated else None
    accepts = thread.accepts_replies(rules.auto_close_days)
    listing = _listing(
        request,
        thread,
        rules,
        page_number=page_number,
        newest_first=newest_first,
        user=user,
        guest_token=read_guest_token(request),
        accepts=accepts,
    )
    reply_to = None
    reply_to_id = parse_id(request.GET.get("replyto"))
    if reply_to_id is not None:
        reply_to = Reply.objects.filter(pk=reply_to_id, thread=thread, status=Reply.Status.APPROVED).first()
    result = reply_form_context(request, thread, rules=rules, reply_to=reply_to)
    notices = discussion_notices(request)
    if notices:
        keep_private(request)  # an author's own notice: never in a stored page
    result.update(
        {
            "request": request,
            "listing": listing,
            "notices": notices,
            "count": thread.approved_count,
            "feed_url": thread_feed_url(thread.key),
            "newest_first": rules.newest_first if newest_first is None else newest_first,
            "csrf_token": context.get("csrf_token"),
        }
    )
    return result
