"""Pile-on brakes: two policy checks for replies aimed at one person.

- ``ApprovedRepliersOnlyCheck``: a writer who ticked "only approved commenters may reply to me"
  gets answers from people without an approved reply only after a moderator has read them.
- ``PileOnCheck``: when one person receives many replies in a short time (admin → Replies →
  Safety), further replies to them wait for review and moderators are told once per burst.

Both are listed in ``SPEAKOUT_DISCUSSION_EXTRA_POLICY_CHECKS``. The burst is counted in the
database, not in a process's memory, so every web process sees the same replies.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from speakout.discussion.models import Reply
from speakout.discussion.policy import Check, Decision, Submission, Verdict

from .checks import safety_settings
from .signals import pile_on_detected


def writer_is_staff(submission: Submission) -> bool:
    return bool(getattr(submission.user, "is_staff", False))


def writes_to_themselves(submission: Submission, parent: Reply) -> bool:
    commenter = submission.commenter
    if commenter is not None and commenter.pk is not None and parent.commenter_id == commenter.pk:
        return True
    return submission.user is not None and parent.user_id == getattr(submission.user, "pk", None)


class ApprovedRepliersOnlyCheck(Check):
    code = "approved_repliers_only"

    def check(self, submission):
        parent = submission.parent
        if parent is None or not parent.approved_repliers_only:
            return None
        if writer_is_staff(submission) or writes_to_themselves(submission, parent):
            return None
        commenter = submission.commenter
        if commenter is not None and commenter.approved_count > 0 and not commenter.is_banned:
            return None
        return Verdict(
            Decision.HOLD,
            self.code,
            _("The person answered accepts replies only from approved commenters."),
        )


def person_of(reply: Reply) -> tuple[Q, str]:
    """The replies answering anything this reply's author wrote, and a key naming that person.
    A guest who left no address is known by their browser's guest key, else by this reply alone."""
    if reply.commenter_id:
        return Q(parent__commenter_id=reply.commenter_id), f"commenter:{reply.commenter_id}"
    if reply.user_id:
        return Q(parent__user_id=reply.user_id), f"user:{reply.user_id}"
    if reply.guest_key:
        return Q(parent__guest_key=reply.guest_key), f"guest:{reply.guest_key}"
    return Q(parent_id=reply.pk), f"reply:{reply.pk}"


class PileOnCheck(Check):
    code = "pile_on"

    def check(self, submission):
        parent = submission.parent
        if parent is None:
            return None
        settings = safety_settings(submission)
        if not settings.pile_on_replies:
            return None
        if writer_is_staff(submission) or writes_to_themselves(submission, parent):
            return None
        aimed_at_them, person = person_of(parent)
        since = submission.now - timedelta(minutes=settings.pile_on_minutes)
        received = Reply.objects.filter(
            aimed_at_them,
            created_at__gte=since,
            status__in=(Reply.Status.APPROVED, Reply.Status.PENDING),
        )
        if parent.commenter_id:
            received = received.exclude(commenter_id=parent.commenter_id)  # their own follow-ups
        count = received.count()
        if count < settings.pile_on_replies:
            return None
        submission.extra["pile_on"] = {"person": person, "count": count, "minutes": settings.pile_on_minutes}
        return Verdict(
            Decision.HOLD,
            self.code,
            ngettext(
                "Pile-on brake: the person answered received %(count)d reply in the last %(minutes)d minutes.",
                "Pile-on brake: the person answered received %(count)d replies in the last %(minutes)d minutes.",
                count,
            )
            % {"count": count, "minutes": settings.pile_on_minutes},
        )

    def accepted(self, submission, reply):
        burst = submission.extra.get("pile_on")
        if not burst:
            return
        # One alert per person and window: the first process to add the key sends it.
        window = int(submission.now.timestamp()) // (burst["minutes"] * 60)
        if cache.add(f"speakout:pile-on:{burst['person']}:{window}", 1, timeout=burst["minutes"] * 60 * 2):
            pile_on_detected.send(
                sender=Reply, reply=reply, target=submission.parent, count=burst["count"], minutes=burst["minutes"]
            )
