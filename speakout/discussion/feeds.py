"""RSS and Atom feeds of the latest approved replies, site-wide and per thread.

Only replies of public threads appear: a thread whose page is unpublished or private is never
in a feed, whatever its replies' status.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .models import Reply, Thread

FEED_LENGTH = 50


def thread_feed_url(key: str, flavour: str = "rss") -> str:
    """The path of a thread's feed. A key with "/" in it (a page's path, as embeds and Isso's
    clients use) cannot be one segment of a path, so it travels in the query string instead."""
    if "/" in key:
        return reverse("discussion:thread_feed_by_key", args=[flavour]) + "?" + urlencode({"key": key})
    return reverse("discussion:thread_feed", args=[key, flavour])


class RepliesFeed(Feed):
    def __init__(self, flavour: str, thread: Thread | None = None):
        super().__init__()
        if flavour not in ("rss", "atom"):
            raise Http404
        self.feed_type = Atom1Feed if flavour == "atom" else Rss201rev2Feed
        self.flavour = flavour
        self.thread = thread

    def title(self):
        if self.thread is not None:
            return _("Replies to “%(title)s”") % {"title": self.thread.title or self.thread.key}
        return _("Latest replies on %(site)s") % {"site": settings.SITE_NAME}

    def link(self):
        return (self.thread.url if self.thread is not None else "") or settings.BASE_URL + "/"

    def feed_url(self):
        if self.thread is not None:
            return settings.BASE_URL + thread_feed_url(self.thread.key, self.flavour)
        return settings.BASE_URL + reverse("discussion:feed", args=[self.flavour])

    def description(self):
        return self.title()

    def items(self):
        replies = (
            Reply.objects.filter(status=Reply.Status.APPROVED, thread__is_public=True)
            .exclude(thread__status=Thread.Status.HIDDEN)
            .select_related("thread")
        )
        if self.thread is not None:
            replies = replies.filter(thread=self.thread)
        return replies.order_by("-created_at", "-pk")[:FEED_LENGTH]

    def item_title(self, item: Reply):
        return _("%(name)s on “%(title)s”") % {"name": item.author_name, "title": item.thread.title or item.thread.key}

    def item_description(self, item: Reply):
        return item.body_html

    def item_link(self, item: Reply):
        return item.get_absolute_url()

    def item_guid(self, item: Reply):
        return settings.BASE_URL + reverse("discussion:reply", args=[item.pk])

    item_guid_is_permalink = False

    def item_pubdate(self, item: Reply):
        return item.created_at

    def item_updateddate(self, item: Reply):
        return item.edited_at or item.created_at

    def item_author_name(self, item: Reply):
        return item.author_name


def latest_replies_feed(request, flavour: str):
    return RepliesFeed(flavour)(request)


def thread_feed(request, flavour: str, key: str | None = None):
    if key is None:
        key = request.GET.get("key", "")
    thread = get_object_or_404(Thread, key=key, is_public=True)
    if thread.status == Thread.Status.HIDDEN:
        raise Http404
    return RepliesFeed(flavour, thread)(request)
