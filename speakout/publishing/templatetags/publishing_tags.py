"""Template helpers for report lists."""

from django import template
from django.utils import translation
from django.utils.html import format_html

from speakout.discussion.models import Thread, thread_dependency
from speakout.pagecache.capture import depends_on
from speakout.theme.languages import content_default, content_language_of

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


@register.simple_tag(takes_context=True)
def content_language_attributes(context) -> str:
    """``lang`` and ``dir`` for a page's own text when it is not in the interface's language (an
    English report read with the interface in Arabic), so screen readers and the layout follow
    the text. The address names the text's language (speakout.publishing.languages)."""
    request = context.get("request")
    if request is None:
        return ""
    content = content_language_of(request.path) or content_default()
    if content == translation.get_language():
        return ""
    direction = "rtl" if translation.get_language_info(content)["bidi"] else "ltr"
    return format_html(' lang="{}" dir="{}"', content, direction)
