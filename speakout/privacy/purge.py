"""The retention purge: delete what the settings say has expired, and log counts only.

Run hourly by the worker's clock (``privacy_purge`` in ``SPEAKOUT_SCHEDULED_JOBS``). Unconfirmed
subscription requests are not handled here: the subscriptions app's own job deletes them when
their confirmation link expires.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from speakout.discussion import app_settings as discussion_settings
from speakout.discussion import services as discussion
from speakout.discussion.clients import oldest_kept_period
from speakout.discussion.models import BannedClient, ClientKey, Commenter, Flag, ModerationLogEntry, Reply
from speakout.outbox.models import OutgoingMail
from speakout.subscriptions.models import Subscription

from .app_settings import app_settings
from .models import ManageRequest

logger = logging.getLogger("speakout.privacy")


def _evidence():
    """The safety app's evidence holds, when it is installed: held replies are exempt from every
    routine purge here until a moderator releases them (docs/safety.md, "Evidence hold")."""
    from django.apps import apps

    if not apps.is_installed("speakout.safety"):
        return None
    from speakout.safety import evidence

    return evidence


def exclude_held_evidence(queryset, reply_field: str = "pk"):
    evidence = _evidence()
    return queryset if evidence is None else queryset.exclude(evidence.is_held(reply_field))


def _days_ago(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def purge_client_hashes(now: datetime) -> dict[str, int]:
    days = discussion_settings.CLIENT_HASH_DAYS
    if days <= 0:
        return {}
    cutoff = _days_ago(now, days)
    counts = {
        "reply_client_hashes": exclude_held_evidence(
            Reply.objects.filter(created_at__lt=cutoff).exclude(client_hash="")
        ).update(client_hash=""),
        "flag_client_hashes": exclude_held_evidence(
            Flag.objects.filter(created_at__lt=cutoff).exclude(client_hash=""), "reply_id"
        ).update(client_hash=""),
        # Keys past the window: deleting them makes their hashes unlinkable for good. A ban made
        # under them is void too, unless the client came back and it was carried to a newer key.
        "client_keys": ClientKey.objects.filter(period__lt=oldest_kept_period(now)).delete()[0],
        "banned_client_hashes": BannedClient.objects.filter(created_at__lt=cutoff).delete()[0],
    }
    from django.apps import apps

    if apps.is_installed("speakout.contact"):
        from speakout.contact.models import ContactMessage

        counts["contact_client_hashes"] = (
            ContactMessage.objects.filter(created_at__lt=cutoff).exclude(client_hash="").update(client_hash="")
        )
    return counts


def purge_held_replies(now: datetime) -> int:
    """Replies held (pending or spam) that no moderator ever acted on, counted from when they
    reached this site: an archive imported today keeps its held replies for the whole period."""
    days = app_settings.HELD_REPLY_DAYS
    if days <= 0:
        return 0
    acted_on = ModerationLogEntry.objects.filter(reply=OuterRef("pk"))
    stale = exclude_held_evidence(
        Reply.objects.filter(
            status__in=[Reply.Status.PENDING, Reply.Status.SPAM], received_at__lt=_days_ago(now, days)
        ).filter(~Exists(acted_on))
    )
    count = 0
    for reply in stale.select_related("thread").iterator(chunk_size=200):
        discussion.delete_permanently(reply, reason="retention")
        count += 1
    return count


def purge_forgotten(now: datetime) -> int:
    cutoff = _days_ago(now, max(0, app_settings.FORGET_AFTER_DAYS))
    due = Commenter.objects.filter(forget_requested_at__isnull=False, forget_requested_at__lte=cutoff)
    evidence = _evidence()
    if evidence is not None:  # kept while one of their replies is held as evidence
        due = due.exclude(Exists(evidence.active_holds().filter(reply__commenter=OuterRef("pk"))))
    return due.delete()[0]


def purge_released_evidence(now: datetime) -> int:
    """Drop the sealed copy of released holds after the retention period. The hold's hashes stay,
    so the chain of seals and the moderation log still prove what was sealed."""
    evidence = _evidence()
    days = app_settings.RELEASED_EVIDENCE_DAYS
    if evidence is None or days <= 0:
        return 0
    return (
        evidence.EvidenceHold.objects.filter(released_at__lt=_days_ago(now, days))
        .exclude(content="")
        .update(content="")
    )


def purge_sent_mail(now: datetime) -> int:
    days = app_settings.SENT_MAIL_DAYS
    if days <= 0:
        return 0
    cutoff = _days_ago(now, days)
    done = Q(status=OutgoingMail.Status.SENT, sent_at__lt=cutoff) | Q(
        status=OutgoingMail.Status.FAILED, created_at__lt=cutoff
    )
    return OutgoingMail.objects.filter(done).delete()[0]


def purge_task_results(now: datetime) -> int:
    """Finished tasks of django-tasks' database backend: their rows keep arguments, results and,
    for a failure, a traceback (whose text may hold an address). Waiting and running ones stay."""
    from django.apps import apps

    days = app_settings.TASK_RESULT_DAYS
    if days <= 0 or not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=_days_ago(now, days)
    ).delete()[0]


def purge_unsubscribed(now: datetime) -> int:
    days = app_settings.UNSUBSCRIBED_DAYS
    if days <= 0:
        return 0
    return Subscription.objects.filter(unsubscribed_at__lt=_days_ago(now, days)).delete()[0]


def purge_manage_requests(now: datetime) -> int:
    cutoff = now - timedelta(seconds=app_settings.LINK_MAX_AGE)
    return ManageRequest.objects.filter(created_at__lt=cutoff).delete()[0]


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Run every purge; return {what: how many rows} and log the same (counts, nothing else)."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        counts.update(purge_client_hashes(now))
    counts["held_replies"] = purge_held_replies(now)
    with transaction.atomic():
        counts["forgotten_commenters"] = purge_forgotten(now)
        counts["sent_mail"] = purge_sent_mail(now)
        counts["ended_subscriptions"] = purge_unsubscribed(now)
        counts["manage_link_requests"] = purge_manage_requests(now)
        counts["released_evidence"] = purge_released_evidence(now)
        counts["task_results"] = purge_task_results(now)
    logger.info("Retention purge: %s", ", ".join(f"{name}={count}" for name, count in sorted(counts.items())))
    return counts
