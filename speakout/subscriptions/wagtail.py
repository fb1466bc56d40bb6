"""New-post notifications from Wagtail: the only module of this app that imports Wagtail.

The publishing app calls ``connect(ReportPage)`` from its ``ready()``; this app imports nothing
from publishing. A report is announced once, on its first publication (``first_published_at``
set by this very publish), never on edits or re-publishing; the ``Announcement`` row keyed by
the report makes that hold even if Wagtail sends the signal twice.
"""

from __future__ import annotations

from django.db import transaction
from wagtail.signals import page_published

from . import services


def announce_report(report) -> None:
    if report.first_published_at is None or report.first_published_at != report.last_published_at:
        return  # an edit or a re-publication
    if not report.live or report.get_view_restrictions().exists():  # private reports are not announced
        return
    with transaction.atomic():
        services.announce_post(
            f"report-{report.pk}",
            title=report.title,
            url=report.full_url or "",
            summary=report.standfirst or report.search_description or "",
            categories=list(report.categories.values_list("slug", flat=True)),
            published_at=report.first_published_at,
        )


def _published(sender, instance, **kwargs):
    if kwargs.get("alias"):
        return
    announce_report(instance.specific)


def connect(page_model) -> None:
    """Announce first publications of ``page_model`` (the publishing app passes ReportPage)."""
    page_published.connect(_published, sender=page_model, dispatch_uid="speakout-subscriptions-new-post")
