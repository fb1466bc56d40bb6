from django import template
from django.utils import timezone

from ..clients import read_guest_token
from ..html import render_reply_list
from ..models import DiscussionSettings, Reply, Thread
from ..reading import load_thread_page
from ..views import reply_form_context

register = template.Library()


@register.inclusion_tag("discussion/thread.html", takes_context=True)
def discussion(context, thread: Thread):
    """The whole discussion block for a thread: count, replies, and the Leave a Reply form."""
    request = context["request"]
    rules = DiscussionSettings.load()
    order = request.GET.get("replies")
    newest_first = {"newest": True, "oldest": False}.get(order)
    try:
        page_number = int(request.GET.get("replies_page", "1"))
    except ValueError:
        page_number = 1
    user = request.user if request.user.is_authenticated else None
    page = load_thread_page(
        thread,
        rules=rules,
        page_number=page_number,
        user=user,
        guest_token=read_guest_token(request),
        newest_first=newest_first,
    )
    window = timezone.timedelta(minutes=rules.edit_window_minutes)
    now = timezone.now()
    for node in page.nodes:
        node.can_change = node.own and now <= node.reply.created_at + window
    reply_to = None
    reply_to_id = request.GET.get("replyto", "")
    if reply_to_id.isdigit():
        reply_to = next((node.reply for node in page.nodes if node.reply.pk == int(reply_to_id)), None)
        if reply_to is None:
            reply_to = Reply.objects.filter(pk=int(reply_to_id), thread=thread, status=Reply.Status.APPROVED).first()
        if reply_to is not None and reply_to.status != Reply.Status.APPROVED:
            reply_to = None
    result = reply_form_context(request, thread, rules=rules, reply_to=reply_to)
    result.update(
        {
            "request": request,
            "page": page,
            "replies_html": render_reply_list(page.nodes, page.closing_tags, accepts_replies=result["accepts_replies"]),
            "newest_first": rules.newest_first if newest_first is None else newest_first,
            "csrf_token": context.get("csrf_token"),
        }
    )
    return result
