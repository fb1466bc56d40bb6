from django import template
from django.urls import reverse

from speakout.discussion.forms import issue_form_token
from speakout.pagecache.holes import per_request

from ..forms import FollowForm

register = template.Library()


@register.inclusion_tag("subscriptions/follow_form.html", takes_context=True)
def follow_form(context, thread):
    """The "Follow this discussion by email" form for a thread, with a fresh time-trap token."""
    form = FollowForm(
        initial={"thread": thread.key, "form_token": per_request(context["request"], issue_form_token, thread.key)}
    )
    return {
        "thread": thread,
        "form": form,
        "action": reverse("subscriptions:follow"),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def short_title(thread) -> str:
    """A thread's title as mails and subscription pages show it (see ``mails.thread_title``)."""
    from ..mails import thread_title

    return thread_title(thread)


@register.filter
def category_name(slug: str) -> str:
    """A category's name as readers know it (its slug if it is gone)."""
    from ..lists import categories

    return dict(categories()).get(slug, slug)
