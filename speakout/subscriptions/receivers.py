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


def on_reply_posted(sender, reply, outcome, notify_replies=False, notify_posts=False, email="", **kwargs):
    if (notify_replies or notify_posts) and reply.status != Reply.Status.SPAM:
        # Double opt-in: the typed address gets a confirmation, so it need not be proven yet.
        email = email or services.author_email(reply)
        if email:
            try:
                if notify_replies:
                    services.request_subscription(email, kind=services.Kind.THREAD, thread=reply.thread)
                if notify_posts:
                    services.request_subscription(email, kind=services.Kind.POSTS)
            except ValueError:
                logger.info("Reply %s asked for notifications with an unusable address", reply.pk)
    if outcome == Outcome.PUBLISHED:
        services.notify_reply_approved(reply, new=True)


def on_reply_moderated(sender, reply, old_status, new_status, **kwargs):
    if new_status == Reply.Status.APPROVED:
        services.notify_reply_approved(reply)


def connect() -> None:
    signals.reply_posted.connect(on_reply_posted, sender=Reply, dispatch_uid="speakout-subscriptions-posted")
    signals.reply_moderated.connect(on_reply_moderated, sender=Reply, dispatch_uid="speakout-subscriptions-moderated")
