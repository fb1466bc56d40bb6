"""Glue between reports and their discussion threads (the discussion app knows no Wagtail).

A report's thread is keyed ``report-<page id>``. Its public flag follows the page: a draft, an
unpublished or a view-restricted report has a non-public thread, whose replies appear in no
public channel. Its status follows the report's "replies" switch.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from speakout.discussion.models import Thread
from speakout.discussion.services import get_or_create_thread


def report_is_public(report) -> bool:
    return bool(report.live) and not report.get_view_restrictions().exists()


def thread_for_report(report, *, refresh: bool = True, create: bool = True) -> Thread | None:
    """The report's thread, created if missing. ``refresh=False`` (page views) trusts the signal
    receivers below to have kept its address, public flag and status in step; ``create=False``
    only reads (previews)."""
    if not refresh or not create:
        # The key is unique: a slice, not first(), which would order the rows too.
        thread = next(iter(Thread.objects.filter(key=report.thread_key)[:1]), None)
        if thread is not None or not create:
            return thread
    thread = get_or_create_thread(
        report.thread_key, url=report.full_url or "", title=report.title, is_public=report_is_public(report)
    )
    changes = {}
    if thread.status != report.replies:
        changes["status"] = report.replies
    opened_at = report.first_published_at
    if opened_at and thread.opened_at != opened_at:
        changes["opened_at"] = opened_at
    if changes:
        Thread.objects.filter(pk=thread.pk).update(**changes)
        for name, value in changes.items():
            setattr(thread, name, value)
        thread.bump_version()
    return thread


def sync_reports(pages) -> None:
    from .models import ReportPage

    for report in ReportPage.objects.filter(pk__in=[page.pk for page in pages]):
        thread_for_report(report)


@receiver(page_published)
@receiver(page_unpublished)
def _page_changed(sender, instance, **kwargs):
    sync_reports(instance.get_descendants(inclusive=True).type(_report_model()))


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def _restriction_changed(sender, instance, **kwargs):
    try:
        page = instance.page
    except Exception:  # the page itself is being deleted
        return
    sync_reports(page.get_descendants(inclusive=True).type(_report_model()))


@receiver(post_page_move)
def _page_moved(sender, instance, **kwargs):
    # Under its new parent it may inherit a view restriction, or have left one; read again, as
    # the instance sent can carry its old place in the tree.
    _page_changed(sender, Page.objects.get(pk=instance.pk))


def _report_model():
    from .models import ReportPage

    return ReportPage
