"""Moderators' decisions teach the spam filter as they are made."""

from __future__ import annotations

from speakout.discussion import signals
from speakout.discussion.models import Reply

from . import app_settings


def on_reply_moderated(sender, reply, old_status, new_status, actor=None, **kwargs):
    if actor is None or not app_settings.LEARN_ON_DECISION:
        return  # authors deleting their own replies say nothing about spam
    if new_status in (Reply.Status.SPAM, Reply.Status.APPROVED):
        from .spam import learn_decision

        learn_decision(reply)


def connect() -> None:
    signals.reply_moderated.connect(on_reply_moderated, sender=Reply, dispatch_uid="speakout-safety-moderated")
