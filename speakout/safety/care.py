"""Moderator care: kind removal notices to commenters, and bans confirmed by a second moderator.

The moderation screens (``speakout.publishing.moderation``) call these; each decision still goes
through the discussion's services, so counts, versions, signals and the log stay right.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from speakout.discussion import services
from speakout.discussion.models import Commenter, ModerationLogEntry, Reply
from speakout.outbox.compose import render_mail
from speakout.outbox.sender import organisation_name
from speakout.outbox.services import queue_mail
from speakout.theme.languages import default_language

from .models import PendingBan, RemovalNotice, SafetySettings

EXCERPT_LENGTH = 200


# Removal notices ------------------------------------------------------------------------------


def notice_address(reply: Reply) -> str:
    """The address given with the reply (its commenter's), or "" when there is none."""
    commenter = reply.commenter
    if commenter is None or commenter.forget_requested_at is not None:
        return ""
    return commenter.email


def send_removal_notice(reply: Reply, notice: RemovalNotice) -> bool:
    """Queue the notice to the reply's own address, in the caller's transaction (so it goes only
    if the decision is stored). The mail names the site, never the moderator. Returns whether a
    mail was queued."""
    address = notice_address(reply)
    if not address:
        return False
    language = reply.language or default_language()  # the language its writer read the site in
    with translation.override(language):
        context = {
            "name": reply.author_name,
            "site_name": organisation_name(),
            "thread_title": reply.thread.title or reply.thread.url or reply.thread.key,
            "created_at": reply.created_at,
            "excerpt": Truncator(" ".join(reply.body.split())).chars(EXCERPT_LENGTH),
            "message": notice.message,
        }
        text, html = render_mail("safety/email/removal_notice", context, language=language)
        subject = _("About your reply on %(site)s") % {"site": organisation_name()}
        try:
            queue_mail(
                address,
                subject[:200],
                text,
                html,
                language=language,
                dedupe_key=f"safety:removal:{reply.pk}:{reply.status}:{reply.log_entries.count()}",
            )
        except ValueError:  # an imported address the outbox cannot send to
            return False
    return True


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
