"""Reports to the Fediverse: first publication sends ``Create``, a later publication ``Update``,
unpublishing, a view restriction or deletion ``Delete``, to every follower's shared inbox (the
deliveries are stored in the publishing transaction and sent by the worker)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished

from . import delivery, documents, jsonld
from .models import FederationSettings, PublishedArticle
from .urls_helpers import absolute


def _followers_url() -> str:
    from django.urls import reverse

    return absolute(reverse("federation:followers"))


def sync_report(page: Any, *, gone: bool = False) -> str:
    """Tell followers what became of ``page`` (a report); returns the activity type sent, or ""."""
    from speakout.publishing.discussion import report_is_public

    config = FederationSettings.load()
    if not config.enabled:
        return ""
    published = PublishedArticle.objects.filter(page_id=page.pk).first()
    if not gone and report_is_public(page):
        document = documents.article(page, published)
        if published is None:
            published = PublishedArticle.objects.create(
                page_id=page.pk, object_id=document["id"], thread_key=page.thread_key
            )
            kind = "Create"
        else:
            kind = "Create" if published.deleted else "Update"
            published.deleted = False
            published.revision += 1
            published.save(update_fields=["deleted", "revision", "updated_at"])
        activity = documents.activity(kind, document, to=[jsonld.PUBLIC], cc=[_followers_url()])
    elif published is not None and not published.deleted:
        published.deleted = True
        published.save(update_fields=["deleted"])
        kind = "Delete"
        activity = documents.activity(kind, documents.tombstone(published.object_id), to=[jsonld.PUBLIC])
    else:
        return ""
    delivery.queue(activity, delivery.follower_inboxes())
    # Members' replies under it follow the report (gone with it, back with it).
    from .replies_out import sync_thread

    sync_thread(published.thread_key)
    return kind


def _reports(page: Any, *, inclusive: bool = True) -> list[Any]:
    from speakout.publishing.models import ReportPage

    return list(ReportPage.objects.descendant_of(page, inclusive=inclusive))


@receiver(page_published)
@receiver(page_unpublished)
def _page_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    for report in _reports(instance):
        sync_report(report)


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def _restriction_changed(sender: Any, instance: PageViewRestriction, **kwargs: Any) -> None:
    try:
        page = instance.page
    except Page.DoesNotExist:
        return
    for report in _reports(page):
        sync_report(report)


@receiver(pre_delete)
def _page_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    from speakout.publishing.models import ReportPage

    if isinstance(instance, ReportPage):
        sync_report(instance, gone=True)
