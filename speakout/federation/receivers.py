"""Reports to the Fediverse: first publication sends ``Create``, a later publication ``Update``,
unpublishing, a view restriction (its own, or its new section's once moved) or deletion
``Delete``, to every follower's shared inbox (the deliveries are stored in the publishing
transaction and sent by the worker). And a reply from the Fediverse deleted here leaves a
tombstone of its Note."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from . import delivery, documents
from .models import FederatedReply, FederationSettings, NoteTombstone, PublishedArticle, RemoteActor
from .replies_out import sync_thread  # members' replies under a report follow it (gone with it, back with it)
from .urls_helpers import followers_url


def sync_report(page: Any, *, gone: bool = False) -> str:
    """Tell followers what became of ``page`` (a report); returns the activity type sent, or "".

    A report in several languages is one Article, the original's (the first published), carrying
    every language in its ``contentMap``: publishing or withdrawing a translation sends an
    ``Update`` of it, never an Article of its own, so followers see the report once. The
    translation still answers at its own address (and takes replies there)."""
    from speakout.publishing.discussion import report_is_public

    public = not gone and report_is_public(page)
    # As stored: the instance a caller holds may predate its own first publication.
    first = type(page).objects.filter(pk=page.pk).values_list("first_published_at", flat=True).first()
    mine = (first or page.first_published_at, page.pk)
    earlier = [other for other in documents.versions(page, excluding=page.pk, public=False)
               if _order(other.first_published_at, other.pk) < _order(*mine)]  # fmt: skip
    if earlier:
        # A translation: kept for lookups and replies at its address; followers hear of it as
        # a language of the original, and never of it alone.
        _keep(page, public)
        original = earlier[0]
        return _announce(original) if report_is_public(original) and _may_announce(original) else ""
    if public:
        return _announce(page) if _may_announce(page) else ""
    published = PublishedArticle.objects.filter(page_id=page.pk).first()
    if published is None or published.deleted:
        return ""
    published.deleted = True
    published.save(update_fields=["deleted"])
    delivery.tell_followers("Delete", documents.tombstone(published.object_id))
    sync_thread(published.thread_key)
    return "Delete"


def _may_announce(page: Any) -> bool:
    """While federation is off nothing new is announced, but the Articles followers hold still
    follow each change (an Update, a Delete), sent once it is on again."""
    held = PublishedArticle.objects.filter(page_id=page.pk, announced=True, deleted=False)
    return FederationSettings.load().enabled or held.exists()


def _order(first_published_at: Any, pk: int) -> tuple[Any, int]:
    """First published first; never published after everything."""
    return (first_published_at or timezone.now() + timedelta(days=3650), pk)


def _keep(page: Any, public: bool) -> None:
    """A translation's own record: its address takes replies while it is public."""
    published = PublishedArticle.objects.filter(page_id=page.pk).first()
    if published is None and public:
        document_id = documents.article_id(page)
        PublishedArticle.objects.create(
            page_id=page.pk, object_id=document_id, thread_key=page.thread_key, announced=False
        )
    elif published is not None and published.deleted == public:
        published.deleted = not public
        published.save(update_fields=["deleted"])
    sync_thread(page.thread_key)


def _announce(page: Any) -> str:
    """Send the public ``page``'s Article: ``Create`` the first time (or after a ``Delete``),
    ``Update`` after."""
    published = PublishedArticle.objects.filter(page_id=page.pk).first()
    document = documents.article(page, published)
    if published is None:
        published = PublishedArticle.objects.create(
            page_id=page.pk, object_id=document["id"], thread_key=page.thread_key
        )
        kind = "Create"
    else:
        # A kept translation whose original is gone (deleted) is new to followers.
        kind = "Create" if published.deleted or not published.announced else "Update"
        published.deleted, published.announced = False, True
        published.revision += 1
        published.save(update_fields=["deleted", "announced", "revision", "updated_at"])
    delivery.tell_followers(kind, document, cc=[followers_url()])
    sync_thread(published.thread_key)
    return kind


@receiver(page_published)
@receiver(page_unpublished)
def _page_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from speakout.publishing.discussion import sync_reports
    from speakout.publishing.models import ReportPage

    reports = list(ReportPage.objects.descendant_of(instance, inclusive=True))
    # The replies that go or stay follow the thread's status and public flag, which the publishing
    # app's own receiver sets; receivers have no order, so bring them in step here first (a no-op
    # when that receiver already ran).
    sync_reports(reports)
    for report in reports:
        sync_report(report)


@receiver(post_page_move)
def _page_moved(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Under its new parent it may inherit a view restriction, or have left one; read again, as
    # the instance sent can carry its old place in the tree.
    _page_changed(sender, Page.objects.get(pk=instance.pk))


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def _restriction_changed(sender: Any, instance: PageViewRestriction, **kwargs: Any) -> None:
    try:
        page = instance.page
    except Page.DoesNotExist:
        return
    _page_changed(sender, page)


@receiver(pre_delete)
def _page_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    from speakout.publishing.models import ReportPage

    if isinstance(instance, ReportPage):
        sync_report(instance, gone=True)


@receiver(pre_delete, sender=FederatedReply, dispatch_uid="federation-remote-reply-deleted")
def _remote_reply_deleted(sender: Any, instance: FederatedReply, **kwargs: Any) -> None:
    """A reply from the Fediverse deleted here, whoever deleted it (its author, a moderator, the
    author making it private, the retention purge): its Note is remembered as deleted, so that a
    retried Create or a later edit (taken as the Note when its Create is unknown) does not bring it
    back."""
    if instance.outgoing or instance.actor_id is None:
        return
    actor = RemoteActor.objects.filter(pk=instance.actor_id).values_list("url", flat=True).first()
    if actor:
        NoteTombstone.record(actor, instance.object_id)
