"""Members' replies to the Fediverse: a reply whose writer chose "also post it to the Fediverse"
goes out as a ``Note`` from the site's actor, answering the report's ``Article`` (or the remote
``Note`` it answers, whose writer is then mentioned).

Who may: a signed-in account holder with a verified address, never a guest and never a
pseudonym (an account opened by "reply under a pseudonym", which marks it in
``identity.models``, whatever password or login provider it has since), and only while the
admin allows it (``FederationSettings.federate_member_replies``). The box is off by default, on
each reply. The choice is kept on the reply (an outgoing ``FederatedReply``);
what the Fediverse is told follows what the site shows, like the reports in receivers.py:
``sync`` sends ``Create`` once the reply is published and its report is federated, ``Update``
after an edit, ``Delete`` once it is removed, deleted, hidden with its thread or its writer is
banned. Deliveries are stored in the transaction of the change and sent by the worker
(delivery.py), and the row's ``announced`` flag, changed under a row lock, keeps a ``Create``
or ``Delete`` from going out twice.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils.html import escape

from speakout.discussion import signals as discussion_signals
from speakout.discussion.models import Commenter, Reply, Thread
from speakout.identity.models import is_pseudonym
from speakout.theme.cache import content_version

from . import delivery, documents, jsonld
from .models import FederatedReply, FederationSettings, PublishedArticle
from .urls_helpers import absolute, actor_url, followers_url


def member_may_federate(user: Any) -> bool:
    """A real, verified account: signed in, active, with a verified address, not a pseudonym."""
    from speakout.discussion.services import verified_addresses

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(verified_addresses(user)) and not is_pseudonym(user)


# Whether the site lets members choose, kept per process under the content version
# (speakout.theme.cache): every save of the federation settings bumps it, wherever it is made, and
# a page reads it once anyway, so a signed-in reader's page asks no query for the settings.
_members_choose: tuple[int, bool] | None = None


def members_may_choose(request: Any) -> bool:
    """Whether the site is federated and lets its members send their replies there."""
    global _members_choose
    version = content_version(request)
    kept = _members_choose
    if kept is not None and kept[0] == version:
        return kept[1]
    config = FederationSettings.load()
    choose = bool(config.enabled and config.federate_member_replies)
    _members_choose = (version, choose)
    return choose


def offered(request: Any) -> bool:
    """Whether the reply form shows this reader the "also post it to the Fediverse" box."""
    return members_may_choose(request) and member_may_federate(request.user)


def note_id(reply: Reply) -> str:
    return absolute(reverse("discussion:reply", args=[reply.pk]))


def _original(translation: PublishedArticle) -> PublishedArticle | None:
    """The Article followers received for a translation: the original's, which carries every
    language. A Note answering the translation's own address would answer an Article they never got."""
    from wagtail.models import Page

    page = Page.objects.filter(pk=translation.page_id).first()
    if page is None:
        return None
    pages = Page.objects.filter(translation_key=page.translation_key).values_list("pk", flat=True)
    return PublishedArticle.objects.filter(page_id__in=pages, announced=True, deleted=False).first()


def _answered(reply: Reply) -> tuple[str, Any]:
    """What the Note answers (its ``inReplyTo``) and the remote actor to mention, if any."""
    article = PublishedArticle.objects.filter(thread_key=reply.thread.key).first()
    if article is not None and not article.announced:
        article = _original(article) or article
    target = article.object_id if article else ""
    parent = reply.parent
    if parent is not None:
        known = FederatedReply.objects.filter(reply=parent).select_related("actor").first()
        if known is not None and (not known.outgoing or known.announced):
            return known.object_id, (known.actor if not known.outgoing else None)
    return target, None


def note(reply: Reply) -> dict[str, Any]:
    """The reply as a Note from the site's actor: its text, then the writer's name as a byline
    (plain text: the writer has no Fediverse account, so nobody is mentioned in their name)."""
    in_reply_to, mentioned = _answered(reply)
    body = documents.clean_html(reply.body_html)
    byline = f"<p>\u2014 {escape(reply.author_name)}</p>"
    cc = [followers_url()]
    document: dict[str, Any] = {
        "id": note_id(reply),
        "type": "Note",
        "attributedTo": actor_url(),
        "inReplyTo": in_reply_to,
        "url": note_id(reply),
        "published": reply.created_at.isoformat(),
        "to": [jsonld.PUBLIC],
        "cc": cc,
        "sensitive": False,
    }
    if mentioned is not None:
        handle = mentioned.handle
        link = f'<p><span class="h-card"><a href="{escape(mentioned.profile_url or mentioned.url)}" class="u-url mention">{escape(handle)}</a></span></p>'  # noqa: E501
        body = link + body
        cc.append(mentioned.url)
        document["tag"] = [{"type": "Mention", "href": mentioned.url, "name": handle}]
    document["content"] = body + byline
    if reply.edited_at:
        document["updated"] = reply.edited_at.isoformat()
    return document


def _recipients(record: FederatedReply, reply: Reply, kind: str) -> list[str]:
    """Every server that got the Note (kept on its record) and whoever would get it now. A
    ``Delete`` goes even to a server blocked since: it holds the Note and the writer's name."""
    _target, mentioned = _answered(reply)
    mentioned_inbox = [mentioned.delivery_inbox] if mentioned is not None and mentioned.delivery_inbox else []
    inboxes = list(dict.fromkeys([*record.inboxes, *delivery.follower_inboxes(), *mentioned_inbox]))
    if kind == "Delete":
        return inboxes
    config = FederationSettings.load()
    return [inbox for inbox in inboxes if not config.is_blocked(inbox)]


def shown(reply: Reply) -> bool:
    """Whether the Fediverse should hold this reply now: published, on a public thread that is
    not hidden, under a federated report, by a writer who is not banned and still may."""
    thread = reply.thread
    if reply.status != Reply.Status.APPROVED or not thread.is_public or thread.status == Thread.Status.HIDDEN:
        return False
    if reply.commenter_id is not None and Commenter.objects.filter(pk=reply.commenter_id, is_banned=True).exists():
        return False
    if not PublishedArticle.objects.filter(thread_key=thread.key, deleted=False).exists():
        return False
    return member_may_federate(reply.user)


def sync(reply: Reply, *, edited: bool = False) -> str:
    """Tell the Fediverse what became of an outgoing reply; returns the activity type sent, or "".
    While federation is off nothing new is announced (no ``Create``), but an ``Update`` or ``Delete``
    of a Note the Fediverse holds is decided as ever, and the worker sends it once it is on again."""
    enabled = FederationSettings.load().enabled
    with transaction.atomic():
        record = FederatedReply.objects.select_for_update().filter(reply_id=reply.pk, outgoing=True).first()
        if record is None:
            return ""
        reply = Reply.objects.select_related("thread", "parent", "user").get(pk=reply.pk)
        wanted = shown(reply)
        if wanted and not record.announced:
            kind = "Create"
        elif wanted and edited:
            kind = "Update"
        elif not wanted and record.announced:
            kind = "Delete"
        else:
            return ""
        if kind == "Create" and not enabled:
            return ""
        if kind == "Delete":
            activity = documents.activity(kind, documents.tombstone(record.object_id), to=[jsonld.PUBLIC])
        else:
            document = note(reply)
            activity = documents.activity(kind, document, to=document["to"], cc=document["cc"])
        inboxes = _recipients(record, reply, kind)
        kept = {"inboxes": list(dict.fromkeys([*record.inboxes, *inboxes]))} if kind != "Delete" else {}
        FederatedReply.objects.filter(pk=record.pk).update(announced=kind != "Delete", **kept)
        delivery.queue(activity, inboxes)
    return kind


def sync_thread(thread_key: str) -> None:
    """After a change of a whole thread (its report unpublished, the thread hidden)."""
    outgoing = FederatedReply.objects.filter(outgoing=True, reply__thread__key=thread_key).select_related("reply")
    for record in outgoing:
        sync(record.reply)


def note_response(path: str) -> Any:
    """The Note at a reply's own address, for a request asking for ActivityStreams; None when
    that reply is not on the Fediverse (the address then answers as it does for everyone)."""
    from .documents import CONTEXT
    from .views import activity_response

    record = (
        FederatedReply.objects.filter(object_id=absolute(path), outgoing=True, announced=True)
        .select_related("reply__thread", "reply__parent", "reply__user")
        .first()
    )
    if record is None or not FederationSettings.load().enabled or not shown(record.reply):
        return None
    return activity_response({"@context": CONTEXT, **note(record.reply)})


# Receivers: every change that can alter what the Fediverse should hold -------------------------


@receiver(discussion_signals.reply_posted, dispatch_uid="federation-reply-posted")
def _reply_posted(sender: Any, reply: Reply, federate: bool = False, **kwargs: Any) -> None:
    if not federate or reply.user_id is None:
        return
    config = FederationSettings.load()
    if not (config.enabled and config.federate_member_replies and member_may_federate(reply.user)):
        return
    FederatedReply.objects.get_or_create(reply=reply, defaults={"object_id": note_id(reply), "outgoing": True})
    if reply.status == Reply.Status.APPROVED:
        sync(reply)


@receiver(discussion_signals.reply_moderated, dispatch_uid="federation-reply-moderated")
@receiver(discussion_signals.reply_anonymised, dispatch_uid="federation-reply-anonymised")
def _reply_moderated_or_anonymised(sender: Any, reply: Reply, **kwargs: Any) -> None:
    # Anonymised, it is no longer a member's reply: Delete. An Update would drop the byline, but
    # servers keep an edited post's earlier versions, name and all.
    sync(reply)


@receiver(discussion_signals.reply_edited, dispatch_uid="federation-reply-edited")
def _reply_edited(sender: Any, reply: Reply, **kwargs: Any) -> None:
    sync(reply, edited=True)


@receiver(pre_delete, sender=FederatedReply, dispatch_uid="federation-reply-deleted")
def _reply_deleted(sender: Any, instance: FederatedReply, **kwargs: Any) -> None:
    """A reply deleted for good (its record goes with it): ``Delete`` if the Fediverse holds it."""
    if not instance.outgoing or not instance.announced:
        return
    # Not only to the followers: a mentioned writer's server got the Create too.
    activity = documents.activity("Delete", documents.tombstone(instance.object_id), to=[jsonld.PUBLIC])
    delivery.queue(activity, _recipients(instance, instance.reply, "Delete"))


@receiver(post_save, sender=Commenter, dispatch_uid="federation-commenter-banned")
def _commenter_saved(
    sender: Any, instance: Commenter, created: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """A ban takes the writer's Notes off the Fediverse; lifting it sends them again."""
    if created or (update_fields is not None and "is_banned" not in update_fields):
        return
    for record in FederatedReply.objects.filter(outgoing=True, reply__commenter=instance).select_related("reply"):
        sync(record.reply)


@receiver(post_save, sender=Thread, dispatch_uid="federation-thread-saved")
def _thread_saved(sender: Any, instance: Thread, created: bool = False, **kwargs: Any) -> None:
    if not created:
        sync_thread(instance.key)
