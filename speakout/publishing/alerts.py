"""Mail to moderators when a reply waits for review or a reader reports one.

The discussion rules (``DiscussionSettings.moderator_alerts``) choose between a mail for each
held or reported reply, one daily summary, or nothing. Recipients are the active users who may
moderate replies in the admin and have an email address. Each mail links to the admin's queue,
where signing in is required and every decision is a POST: nothing in a mail changes anything.

Mails go through the outbox in the transaction that stored the reply or the report, with a
deduplication key, so a retried request or a second report of the same reply sends nothing new.
A flood of held replies is capped per moderator and hour (``SPEAKOUT_MODERATOR_ALERTS_PER_HOUR``);
what the cap holds back still waits in the queue, and the daily summary lists it.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from speakout.discussion import signals
from speakout.discussion.models import DiscussionSettings, Flag, Reply
from speakout.discussion.moderation import MODERATE_PERMISSION, plain_text
from speakout.net import ratelimit
from speakout.outbox.compose import mail_context, render_mail
from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail
from speakout.safety.signals import pile_on_detected
from speakout.theme.languages import default_language

logger = logging.getLogger("speakout.publishing.alerts")

Alerts = DiscussionSettings.ModeratorAlerts
ADMIN_ACCESS_PERMISSION = "wagtailadmin.access_admin"
EXCERPT_LENGTH = 600
DIGEST_ITEMS = 20


def base_url() -> str:
    return getattr(settings, "BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def admin_url(name: str, *args) -> str:
    return base_url() + reverse(name, args=args)


def moderators():
    """Active users who can reach the admin and moderate replies, with an email address."""
    # Permissions come from groups and users through Django's model backend (allauth's adds none).
    backend = "django.contrib.auth.backends.ModelBackend"
    manager = get_user_model().objects
    users = manager.with_perm(MODERATE_PERMISSION, is_active=True, include_superusers=True, backend=backend)
    admins = manager.with_perm(ADMIN_ACCESS_PERMISSION, is_active=True, include_superusers=True, backend=backend)
    return users.filter(pk__in=admins.values("pk")).exclude(email="").order_by("pk")


def language_of(user) -> str:
    try:
        from wagtail.users.models import UserProfile

        # The profile's own choice, not get_preferred_language(): that falls back to the language
        # of the current request, which is the commenter's, not the moderator's.
        return UserProfile.get_for_user(user).preferred_language or default_language()
    except Exception:  # no profile yet, or Wagtail's users app not installed
        return default_language()


def under_hourly_cap(user, now: datetime) -> bool:
    limit = settings.SPEAKOUT_MODERATOR_ALERTS_PER_HOUR
    return ratelimit.allow(f"speakout:moderator-alerts:{user.pk}", limit, 3600, aligned=True, now=now)


def reply_context(reply: Reply) -> dict:
    return {
        "reply": reply,
        "thread_title": reply.thread.title or reply.thread.key,
        "excerpt": plain_text(reply.body_html)[:EXCERPT_LENGTH],
        "reply_url": base_url() + reply.get_absolute_url() if reply.thread.url.startswith("/") else "",
    }


def send(user, template: str, subject: str, context: dict, *, dedupe_key: str) -> None:
    language = language_of(user)
    with translation.override(language):
        context = {**mail_context(language), "user": user, **context}
        text, html = render_mail(f"publishing/email/{template}", context, language=language)
        subject = " ".join(gettext(subject).format(**context.get("subject_values", {})).split())[:500]
    queue_mail(user.email, subject, text, html, language=language, dedupe_key=dedupe_key)


def alert_each(reply: Reply, *, template: str, subject: str, key: str, extra: dict) -> int:
    now = timezone.now()
    sent = 0
    for user in moderators():
        if not under_hourly_cap(user, now):
            logger.info("Moderator alert held back by the hourly cap")
            continue
        send_alert(user, reply, template=template, subject=subject, key=key, extra=extra)
        sent += 1
    return sent


def send_alert(user, reply: Reply, *, template: str, subject: str, key: str, extra: dict) -> None:
    context = {**reply_context(reply), "subject_values": {"title": reply.thread.title or reply.thread.key}, **extra}
    send(user, template, subject, context, dedupe_key=f"{key}:{reply.pk}:{user.pk}")


QUEUE = "speakout_moderation:queue"
HELD_SUBJECT = gettext_noop("A reply is waiting for review: “{title}”")
REPORTED_SUBJECT = gettext_noop("A reader reported a reply: “{title}”")


# Receivers -----------------------------------------------------------------------------------


def on_reply_posted(sender, reply, outcome, **kwargs):
    # Spam goes to its own queue without a mail: alerting on it would let spammers mail us.
    if reply.status != Reply.Status.PENDING or DiscussionSettings.load().moderator_alerts != Alerts.EACH:
        return
    alert_each(
        reply,
        template="moderation_held",
        subject=HELD_SUBJECT,
        key="moderation-held",
        extra={"queue_url": admin_url("speakout_moderation:queue", "pending")},
    )


def on_reply_flagged(sender, reply, flag, **kwargs):
    if reply.status != Reply.Status.APPROVED or DiscussionSettings.load().moderator_alerts != Alerts.EACH:
        return
    alert_each(
        reply,
        template="moderation_reported",
        subject=REPORTED_SUBJECT,
        key="moderation-reported",  # one mail per reply, however many readers report it
        extra={"flag": flag, "queue_url": admin_url("speakout_moderation:queue", "reported")},
    )


def on_pile_on(sender, reply, target, count, minutes, **kwargs):
    """A burst of replies aimed at one person (speakout.safety.pileon): happening now, so it is
    mailed even when the rules ask for a daily summary; only "no mail" silences it."""
    if DiscussionSettings.load().moderator_alerts == Alerts.OFF:
        return
    alert_each(
        reply,
        template="moderation_pile_on",
        subject=gettext_noop("Many replies to one person on “{title}”"),
        key="moderation-pile-on",
        extra={
            "target": target,
            "count": count,
            "minutes": minutes,
            "queue_url": admin_url("speakout_moderation:queue", "pending"),
        },
    )


def on_reply_anonymised(sender, reply, **kwargs):
    """No alert not yet sent may carry the name ``reply`` had (``reply`` still holds it). Its own
    held and reported alerts are written again as the reply is now, so the moderator still hears
    of it; a pile-on alert about it (the person the burst answered) and a daily summary naming it
    cannot be and are dropped: the replies wait in the admin's queue, and the next hourly run
    writes the summary again. A mail the worker is sending right now is past taking back."""
    unsent = OutgoingMail.objects.filter(status__in=[OutgoingMail.Status.PENDING, OutgoingMail.Status.FAILED])
    anonymised = Reply.objects.select_related("thread").filter(pk=reply.pk).first()
    first_flag = Flag.objects.filter(reply_id=reply.pk).order_by("pk").first()
    again = {
        "moderation-held": ("moderation_held", HELD_SUBJECT, {"queue_url": admin_url(QUEUE, "pending")}),
        "moderation-reported": (
            "moderation_reported",
            REPORTED_SUBJECT,
            {"flag": first_flag, "queue_url": admin_url(QUEUE, "reported")},
        ),
    }
    users = {user.pk: user for user in moderators()}
    for key, (template, subject, extra) in again.items():
        for mail in unsent.filter(dedupe_key__startswith=f"{key}:{reply.pk}:"):
            user = users.get(int(mail.dedupe_key.rsplit(":", 1)[1]))
            mail.delete()
            if anonymised is None or user is None or extra.get("flag", True) is None:
                logger.info("Dropped an unsent moderator alert about reply %s, anonymised by its writer", reply.pk)
                continue
            send_alert(user, anonymised, template=template, subject=subject, key=key, extra=extra)

    dropped = unsent.filter(_naming_writer(unsent, reply)).delete()[0]
    if dropped:
        logger.info(
            "Dropped %d unsent moderator mail(s) naming the writer of reply %s, who anonymised it", dropped, reply.pk
        )


def on_reply_deleted(sender, reply, **kwargs):
    """No alert not yet sent may keep the name or the text of ``reply``, deleted for good (the row
    still exists while this runs). Unlike anonymising, nothing is written again: there is no
    reply left to review. Its held, reported and pile-on alerts go, so do pile-on alerts about
    answers to it (they name its writer) and a daily summary quoting it; the next hourly run writes
    the summary again from what still waits. A mail the worker is sending right now is past
    taking back."""
    unsent = OutgoingMail.objects.filter(status__in=[OutgoingMail.Status.PENDING, OutgoingMail.Status.FAILED])
    about_it = Q(pk__in=[])
    for key in ("moderation-held", "moderation-reported", "moderation-pile-on"):
        about_it |= Q(dedupe_key__startswith=f"{key}:{reply.pk}:")
    about_it |= _naming_writer(unsent, reply, plain_text(reply.body_html)[:60])
    dropped = unsent.filter(about_it).delete()[0]
    if dropped:
        logger.info("Dropped %d unsent moderator mail(s) about reply %s, deleted for good", dropped, reply.pk)


def _naming_writer(unsent, reply: Reply, text: str = "") -> Q:
    """The unsent mails that name ``reply``'s writer: pile-on alerts about answers to it, and
    daily summaries that name them (as a whole name: erasing "Bo" is not about "Bob") or quote
    the start of its ``text``; the text part of a summary is rendered unescaped, so it is the one
    searched."""
    name = " ".join(reply.author_name.split())
    naming = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)") if name else None
    found = [
        pk
        for pk, body in unsent.filter(dedupe_key__startswith="moderation-summary:").values_list("pk", "text_body")
        if (naming and naming.search(body)) or (text and text in body)
    ]
    about = Q(pk__in=found)
    for answer_id in Reply.objects.filter(parent_id=reply.pk).values_list("pk", flat=True):
        about |= Q(dedupe_key__startswith=f"moderation-pile-on:{answer_id}:")
    return about


def connect() -> None:
    signals.reply_posted.connect(on_reply_posted, sender=Reply, dispatch_uid="speakout-moderator-alerts-posted")
    signals.reply_flagged.connect(on_reply_flagged, sender=Reply, dispatch_uid="speakout-moderator-alerts-flagged")
    signals.reply_anonymised.connect(
        on_reply_anonymised, sender=Reply, dispatch_uid="speakout-moderator-alerts-anonymised"
    )
    signals.reply_deleted.connect(on_reply_deleted, sender=Reply, dispatch_uid="speakout-moderator-alerts-deleted")
    pile_on_detected.connect(on_pile_on, sender=Reply, dispatch_uid="speakout-moderator-alerts-pile-on")


# The daily summary ---------------------------------------------------------------------------


def waiting_replies():
    return Reply.objects.filter(status=Reply.Status.PENDING).select_related("thread").order_by("-created_at", "-pk")


def reported_replies():
    unresolved = Flag.objects.filter(reply=OuterRef("pk"), resolved_at__isnull=True)
    return (
        Reply.objects.filter(status=Reply.Status.APPROVED)
        .filter(Exists(unresolved))
        .select_related("thread")
        .order_by("-created_at", "-pk")
    )


def send_daily_summaries(now: datetime | None = None) -> int:
    """Once a day, when the rules ask for it and something waits: one summary per moderator.
    Run hourly by the worker's clock; the day in the deduplication key keeps it to one a day."""
    now = now or timezone.now()
    if DiscussionSettings.load().moderator_alerts != Alerts.DAILY:
        return 0
    waiting, reported = waiting_replies(), reported_replies()
    waiting_count, reported_count = waiting.count(), reported.count()
    if not waiting_count and not reported_count:
        return 0
    context = {
        "waiting_count": waiting_count,
        "reported_count": reported_count,
        "waiting": [reply_context(reply) for reply in waiting[:DIGEST_ITEMS]],
        "reported": [reply_context(reply) for reply in reported[:DIGEST_ITEMS]],
        "pending_url": admin_url("speakout_moderation:queue", "pending"),
        "reported_url": admin_url("speakout_moderation:queue", "reported"),
        "subject_values": {"waiting": waiting_count, "reported": reported_count},
    }
    day = timezone.localdate(now).isoformat()
    sent = 0
    for user in moderators():
        send(
            user,
            "moderation_summary",
            gettext_noop("Replies to review: {waiting} waiting, {reported} reported"),
            context,
            dedupe_key=f"moderation-summary:{day}:{user.pk}",
        )
        sent += 1
    return sent
