"""Listeners on the discussion's signals (the discussion app knows nothing of subscriptions).

Both signals are sent inside the transaction that stored the change, so the subscription rows
(and their confirmation mails) and the record of a reply to announce commit or roll back with it.
"""

from __future__ import annotations

import logging

from speakout.discussion import signals
from speakout.discussion.models import Reply
from speakout.discussion.services import Outcome

from . import services

logger = logging.getLogger("speakout.subscriptions")


def on_reply_posted(
    sender,
    reply,
    outcome,
    notify_replies=False,
    notify_posts=False,
    email="",
    notify_answers=False,
    notify_outcome=False,
    **kwargs,
):
    if (notify_replies or notify_posts or notify_answers or notify_outcome) and reply.status != Reply.Status.SPAM:
        try:
            _subscribe_writer(reply, email, notify_replies, notify_posts, notify_answers, notify_outcome)
        except ValueError:
            logger.info("Reply %s asked for notifications with an unusable address", reply.pk)
    if outcome == Outcome.PUBLISHED:
        services.notify_reply_approved(reply, new=True)


def _subscribe_writer(reply, email, notify_replies, notify_posts, notify_answers, notify_outcome) -> None:
    """A signed-in writer's verified address is subscribed at once; any other address (a guest's
    typed one, an account's unverified one) first gets its confirmation mail (double opt-in)."""
    verified = services.verified_addresses(reply.user) if reply.user_id else []
    if verified:
        own = services.author_email(reply).strip().lower()
        address = own if own in verified else verified[0]
        for wanted, kind in (
            (notify_replies, services.Kind.THREAD),
            (notify_posts, services.Kind.POSTS),
            (notify_answers, services.Kind.ANSWERS),
            (notify_outcome, services.Kind.OUTCOME),
        ):
            if wanted:
                services.subscribe_verified(address, kind=kind, thread=reply.thread, reply=reply)
        return
    email = email or services.author_email(reply)
    if not email:
        return
    if notify_replies:
        services.request_subscription(email, kind=services.Kind.THREAD, thread=reply.thread)
    if notify_posts:
        services.request_subscription(email, kind=services.Kind.POSTS)
    if notify_answers or notify_outcome:
        services.request_reply_mail(email, reply, answers=notify_answers, outcome=notify_outcome)


def on_reply_moderated(sender, reply, old_status, new_status, notice="", **kwargs):
    if new_status == Reply.Status.APPROVED:
        services.notify_reply_approved(reply, was_held=old_status != Reply.Status.APPROVED)
    elif notice and new_status in (Reply.Status.SPAM, Reply.Status.TRASH):
        services.send_removal_notice(reply, notice)


def on_reply_anonymised(sender, reply, **kwargs):
    services.take_back_answer_name(reply)
    services.take_back_writer_mail(reply)


def on_reply_deleted(sender, reply, **kwargs):
    """Deleted for good (the row still exists while this runs): no mail not yet sent may keep its
    name or text, or tie its writer's address to it."""
    services.take_back_answer_name(reply)
    services.take_back_writer_mail(reply)
    services.take_back_reply_notices(reply)


def connect() -> None:
    signals.reply_posted.connect(on_reply_posted, sender=Reply, dispatch_uid="speakout-subscriptions-posted")
    signals.reply_moderated.connect(on_reply_moderated, sender=Reply, dispatch_uid="speakout-subscriptions-moderated")
    signals.reply_anonymised.connect(
        on_reply_anonymised, sender=Reply, dispatch_uid="speakout-subscriptions-anonymised"
    )
    signals.reply_deleted.connect(on_reply_deleted, sender=Reply, dispatch_uid="speakout-subscriptions-deleted")
