"""Moderators' decisions teach the spam filter as they are made; an anonymised writer's name and
website leave the filter's reasons."""

from __future__ import annotations

from django.utils import translation

from speakout.discussion import signals
from speakout.discussion.models import Reply

from . import app_settings


def on_reply_moderated(sender, reply, old_status, new_status, actor=None, **kwargs):
    if actor is None or not app_settings.LEARN_ON_DECISION:
        return  # authors deleting their own replies say nothing about spam
    if new_status in (Reply.Status.SPAM, Reply.Status.APPROVED):
        from .spam import learn_decision

        learn_decision(reply)


def on_reply_anonymised(sender, reply, **kwargs):
    """The spam filter's reasons for ``reply`` (still holding its old name) may quote its
    writer's name or website: they go from its assessment and from the reason it was held for,
    which the moderators' alerts written again quote (so this runs before them)."""
    from .checks import spam_message
    from .models import ReplyAssessment

    assessment = ReplyAssessment.objects.filter(reply_id=reply.pk, spam_score__isnull=False).first()
    naming = ("~name:", "~website:")
    if assessment is None or not any(token.startswith(naming) for token in assessment.spam_reasons):
        return
    kept = [token for token in assessment.spam_reasons if not token.startswith(naming)]
    named = [token.partition(":")[2].casefold() for token in assessment.spam_reasons if token.startswith(naming)]
    ReplyAssessment.objects.filter(pk=assessment.pk).update(spam_reasons=kept)
    # The reason was written in the writer's language; if it is not found as written but still
    # names the writer, it goes. A reason that never named them (another check held it) stays.
    with translation.override(reply.language or None):
        said = spam_message(assessment.spam_score, assessment.spam_reasons)
        reason = reply.moderation_reason.replace(said, spam_message(assessment.spam_score, kept))
    if reason == reply.moderation_reason and any(value in reason.casefold() for value in named):
        reason = ""
    if reason != reply.moderation_reason:
        Reply.objects.filter(pk=reply.pk).update(moderation_reason=reason)


def connect() -> None:
    signals.reply_moderated.connect(on_reply_moderated, sender=Reply, dispatch_uid="speakout-safety-moderated")
    signals.reply_anonymised.connect(on_reply_anonymised, sender=Reply, dispatch_uid="speakout-safety-anonymised")
