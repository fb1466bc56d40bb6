"""Template helpers for report lists."""

from django import template

from speakout.discussion.models import Thread, thread_dependency
from speakout.pagecache.capture import depends_on

register = template.Library()


@register.simple_tag(takes_context=True)
def attach_reply_counts(context, reports) -> str:
    """Set ``reply_count`` (published replies) on each report of a list, in one query.

    A cached list page is retired when one of these threads changes, so its counts stay true."""
    reports = list(reports)
    keys = {report.thread_key: report for report in reports}
    counts = dict(Thread.objects.filter(key__in=keys, is_public=True).values_list("key", "approved_count"))
    for key, report in keys.items():
        report.reply_count = counts.get(key, 0)
    request = context.get("request")
    if request is not None and keys:
        depends_on(request, *(thread_dependency(key) for key in keys))
    return ""
