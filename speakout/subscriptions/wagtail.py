"""New-post mail from Wagtail: the only module of this app that imports Wagtail.

The publishing app calls ``connect(ReportPage)`` from its ``ready()``; this app imports nothing
from publishing. A report is announced once, on its first publication (``first_published_at``
set by this very publish), never on edits or re-publishing; the ``Announcement`` row keyed by
the report makes that hold even if Wagtail sends the signal twice, and a translation of a report
already announced is not announced again (one mail per report, in the language it first appeared
in). A page model may define ``mail_parts()`` returning ``{"html": ..., "text": ...}``: the whole post as mail shows it.
"""

from __future__ import annotations

import logging

from wagtail.signals import page_published

from . import services
from .models import Announcement

logger = logging.getLogger("speakout.subscriptions")


def announcement_key(report) -> str:
    return f"report-{report.pk}"


def is_public(report) -> bool:
    # The same test as publishing.discussion.report_is_public (the thread's public flag), written
    # again because publishing imports this module; tests/subscriptions/test_posts.py
    # holds the two to the same answers.
    return bool(report.live) and not report.get_view_restrictions().exists()


def announcement_for(report, *, email_only: bool = False) -> Announcement:
    """An unsaved announcement of ``report`` as it stands (a draft's latest revision included)."""
    try:
        parts = report.mail_parts() if hasattr(report, "mail_parts") else {}
    except Exception:
        # A picture whose file is gone must not stop the publication: the mail then carries the
        # title, the summary and the link, as before full content existed.
        logger.exception("The mail content of %s could not be rendered", report.pk)
        parts = {}
    return Announcement(
        key=announcement_key(report),
        title=report.title[:500],
        url="" if email_only else (report.full_url or ""),
        summary=report.standfirst or report.search_description or "",
        categories=[category.slug for category in report.categories.all()],
        published_at=report.first_published_at or report.latest_revision_created_at or None,
        html=parts.get("html", ""),
        text=parts.get("text", ""),
        email_only=email_only,
    )


def send_report(report, *, email_only: bool = False) -> Announcement | None:
    """Mail ``report`` to its subscribers (instant now, the digests later); None if it was
    already. ``email_only``: the report is not on the site (a draft), so the mail links nowhere."""
    draft = announcement_for(report, email_only=email_only)
    return services.announce_post(
        draft.key,
        title=draft.title,
        url=draft.url,
        summary=draft.summary,
        categories=draft.categories,
        published_at=None if email_only else draft.published_at,
        html=draft.html,
        text=draft.text,
        email_only=email_only,
    )


def is_translation_of_an_announced_report(report) -> bool:
    """A translation is the same report in another language: its subscribers had it already."""
    translation_key = getattr(report, "translation_key", None)
    if translation_key is None:
        return False
    others = type(report).objects.filter(translation_key=translation_key).exclude(pk=report.pk)
    keys = [announcement_key(other) for other in others.only("pk")]
    return Announcement.objects.filter(key__in=keys).exists()


def announce_report(report) -> None:
    if report.first_published_at is None or report.first_published_at != report.last_published_at:
        return  # an edit or a re-publication
    if not is_public(report):  # private reports are not announced
        return
    if is_translation_of_an_announced_report(report):
        return
    send_report(report)


def _published(sender, instance, **kwargs):
    if kwargs.get("alias"):
        return
    announce_report(instance.specific)


def connect(page_model) -> None:
    """Announce first publications of ``page_model`` (the publishing app passes ReportPage)."""
    page_published.connect(_published, sender=page_model, dispatch_uid="speakout-subscriptions-new-post")
