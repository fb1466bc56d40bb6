"""Pile-on brakes: two policy checks for replies aimed at one person.

- ``ApprovedRepliersOnlyCheck``: a writer who ticked "only approved commenters may reply to me"
  gets answers from people without an approved reply only after a moderator has read them.
- ``PileOnCheck``: when one person receives many replies in a short time (admin → Replies →
  Safety), further replies to them wait for review and moderators are told once per burst.

Both are listed in ``SPEAKOUT_DISCUSSION_EXTRA_POLICY_CHECKS``. The burst is counted in the
database, not in a process's memory, so every web process sees the same replies. "One person" is
what the public can see: one avatar (see ``answers_to_the_same_face``).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from speakout.discussion.avatars import DEFAULT_KEY
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


def person_of(reply: Reply) -> str:
    """A key naming the person who wrote this reply, for the moderators' alert only (one mail per
    person and burst): their commenter record, account or guest key, else this reply alone.
    Moderators may see that link; the public outcome (held or published) must not depend on it."""
    if reply.commenter_id:
        return f"commenter:{reply.commenter_id}"
    if reply.user_id:
        return f"user:{reply.user_id}"
    if reply.guest_key:
        return f"guest:{reply.guest_key}"
    return f"reply:{reply.pk}"


def answers_to_the_same_face(reply: Reply) -> Q:
    """The replies the brake counts together with answers to ``reply``: answers to any reply that
    wears its avatar, across threads (readers can link those already), or, for the plain avatar
    that imported replies share, answers to this reply alone. Never by commenter record, account
    or guest key: held or published would then tell anyone who can post whether two replies with
    different names and avatars share a writer."""
    if reply.avatar_key and reply.avatar_key != DEFAULT_KEY:
        return Q(parent__avatar_key=reply.avatar_key)
    return Q(parent_id=reply.pk)


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
        since = submission.now - timedelta(minutes=settings.pile_on_minutes)
        received = Reply.objects.filter(
            answers_to_the_same_face(parent),
            created_at__gte=since,
            status__in=(Reply.Status.APPROVED, Reply.Status.PENDING),
        )
        if parent.avatar_key and parent.avatar_key != DEFAULT_KEY:
            # Their own follow-ups, known by the avatar they wear: skipping them by commenter
            # record instead would tell that a reply with another avatar is theirs.
            received = received.exclude(avatar_key=parent.avatar_key)
        count = received.count()
        if count < settings.pile_on_replies:
            return None
        submission.extra["pile_on"] = {"person": person_of(parent), "count": count, "minutes": settings.pile_on_minutes}
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
