"""Moderator care: bans confirmed by a second moderator. (Kind removal notices go to writers who
asked to be told, through speakout.subscriptions.)

The moderation screens (``speakout.publishing.moderation``) call these; each decision still goes
through the discussion's services, so counts, versions, signals and the log stay right.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from speakout.discussion import services
from speakout.discussion.models import Commenter, ModerationLogEntry

from .models import PendingBan, SafetySettings

# Bans by two moderators -----------------------------------------------------------------------

BAN_REQUESTED = "requested"
BANNED = "banned"
OWN_REQUEST = "own_request"
NOTHING_PENDING = "nothing_pending"


def request_ban(commenter: Commenter, *, actor, reason: str = "", rules: SafetySettings | None = None) -> str:
    """Ban at once, or, when the safety settings ask for two moderators, record the request.
    Returns ``BANNED`` or ``BAN_REQUESTED``."""
    rules = rules or SafetySettings.load()
    if not rules.ban_needs_confirmation:
        services.ban_commenter(commenter, actor=actor, reason=reason)
        return BANNED
    try:
        with transaction.atomic():
            PendingBan.objects.create(commenter=commenter, requested_by=actor, reason=reason[:500])
            ModerationLogEntry.objects.create(
                commenter=commenter, actor=actor, action="ban_requested", reason=reason[:500]
            )
    except IntegrityError:
        pass  # already asked for: one request at a time
    return BAN_REQUESTED


def confirm_ban(commenter: Commenter, *, actor) -> str:
    """A second moderator confirms the pending ban. The one who asked cannot."""
    with transaction.atomic():
        pending = PendingBan.objects.select_for_update().filter(commenter=commenter).first()
        if pending is None:
            return NOTHING_PENDING
        if pending.requested_by_id == actor.pk:
            return OWN_REQUEST
        services.ban_commenter(commenter, actor=actor, reason=pending.reason)
        pending.delete()
    return BANNED


def withdraw_ban(commenter: Commenter, *, actor, reason: str = "") -> bool:
    """Drop a pending ban (the moderator who asked, or another who disagrees), with a log entry."""
    with transaction.atomic():
        deleted = PendingBan.objects.filter(commenter=commenter).delete()[0]
        if deleted:
            ModerationLogEntry.objects.create(
                commenter=commenter, actor=actor, action="ban_withdrawn", reason=reason[:500]
            )
    return bool(deleted)
