"""Outgoing activities: rows written in the transaction of what caused them, sent by the worker.

Like the mail outbox: ``queue`` stores one ``Delivery`` per (activity, inbox) (a second queueing
of the same pair is ignored), and after the commit a task sends what is due. A failure is
retried with exponential backoff up to ``DELIVERY_ATTEMPTS``; a refusal that a retry cannot
change (4xx other than 408/429) fails at once. A delivery is claimed before it is sent, so two
workers never send it twice; one claimed by a worker that died is sent again after
``CLAIM_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from speakout.net.fetch import FetchRefused, fetch

from . import jsonld
from .app_settings import app_settings
from .models import ActivityLog, Delivery, FederationSettings, Follower, log

logger = logging.getLogger(__name__)

RETRYABLE_4XX = {408, 429}


def follower_inboxes() -> list[str]:
    """Every accepted follower's shared inbox (or own inbox), each once; none for a follower
    blocked since they followed (their actor, or their or their inbox's server)."""
    config = FederationSettings.load()
    inboxes: list[str] = []
    for follower in Follower.objects.filter(state=Follower.State.ACCEPTED).select_related("actor"):
        inbox = follower.actor.delivery_inbox
        if not inbox or inbox in inboxes or config.is_blocked(follower.actor.url) or config.is_blocked(inbox):
            continue
        inboxes.append(inbox)
    return inboxes


def tell_followers(kind: str, obj: Any, *, cc: list[str] | None = None) -> int:
    """Queue a public ``kind`` activity about ``obj`` for every follower."""
    from . import documents

    return queue(documents.activity(kind, obj, to=[jsonld.PUBLIC], cc=cc), follower_inboxes())


def answer_follow(follower: Follower, kind: str, follow: dict[str, Any] | None = None) -> None:
    """``Accept`` or ``Reject`` a follower's follow, sent to them."""
    from . import documents
    from .urls_helpers import actor_url

    follow = follow or {"id": follower.follow_id, "type": "Follow", "actor": follower.actor.url, "object": actor_url()}
    queue(documents.activity(kind, follow, to=[follower.actor.url]), [follower.actor.own_inbox])


def queue(activity: dict[str, Any], inboxes: Iterable[str]) -> int:
    rows = [Delivery(activity_id=activity["id"], inbox=inbox, payload=activity) for inbox in inboxes if inbox]
    if not rows:
        return 0
    if activity.get("type") == "Delete":
        _withdraw_waiting(activity.get("object"))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(_enqueue)
    return len(rows)


def _withdraw_waiting(retracted: Any) -> int:
    """Withdraw every Create and Update of a deleted object still waiting for its (re)try: sent after
    the Delete, one would put the Note or Article back (an anonymised byline, a report made
    private), and most servers keep no memory of a Delete that came first. One being sent right
    now is past stopping; the Delete follows it. Every other stored copy, sent or withdrawn, keeps
    the object's address only: the rest is what was taken back (a byline, words edited away)."""
    from .documents import tombstone

    object_id = retracted.get("id") if isinstance(retracted, dict) else retracted
    if not object_id:
        return 0
    waiting = Q(status=Delivery.Status.PENDING) | _abandoned()
    copies = Delivery.objects.filter(payload__type__in=["Create", "Update"], payload__object__id=object_id)
    # Kept, as failed, so the delivery log still shows what was owed and why it never went.
    withdrawn = copies.filter(waiting).update(
        status=Delivery.Status.FAILED, last_error="Withdrawn: its object was deleted first."
    )
    kept = list(copies.exclude(status=Delivery.Status.SENDING))
    for row in kept:
        row.payload["object"] = tombstone(object_id)
    Delivery.objects.bulk_update(kept, ["payload"])
    return withdrawn


def _enqueue() -> None:
    from speakout.net.tasks import enqueue_unless_waiting

    from .tasks import deliver_task

    try:
        enqueue_unless_waiting(deliver_task)
    except Exception:
        # The delivery is committed; the worker's sweep (federation_deliveries) sends it.
        logger.exception("Could not enqueue the delivery task; the sweep will send the delivery")


def _abandoned() -> Q:
    """Claimed by a worker that died mid-send: more than ``CLAIM_TIMEOUT_SECONDS`` ago."""
    stale = timezone.now() - timedelta(seconds=app_settings.CLAIM_TIMEOUT_SECONDS)
    return Q(status=Delivery.Status.SENDING, claimed_at__lt=stale)


def _due() -> Q:
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now()) | _abandoned()


def _claim(delivery: Delivery) -> bool:
    """Take the delivery for this worker; False if another took it first."""
    claimed = (
        Delivery.objects.filter(pk=delivery.pk, status=delivery.status, claimed_at=delivery.claimed_at)
        .filter(_due())
        .update(status=Delivery.Status.SENDING, claimed_at=timezone.now())
    )
    return claimed == 1


def backoff(attempts: int) -> timedelta:
    seconds = app_settings.DELIVERY_FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, app_settings.DELIVERY_MAX_RETRY_SECONDS))


def send(delivery: Delivery) -> bool:
    """One attempt; records the outcome. True when the inbox took it."""
    from .signatures import sign

    body = json.dumps(delivery.payload).encode()
    attempts = delivery.attempts + 1
    try:
        answer = fetch(
            delivery.inbox,
            method="POST",
            body=body,
            headers={"Content-Type": jsonld.CONTENT_TYPE, "Accept": jsonld.CONTENT_TYPE},
            sign=sign,
            max_bytes=64 * 1024,
            timeout=15.0,
        )
        status, error = answer.status, ("" if 200 <= answer.status < 300 else f"answered {answer.status}")
    except FetchRefused as refused:
        status, error = 0, str(refused)
    fields: dict[str, Any] = {"attempts": attempts, "claimed_at": None, "last_error": error[:500]}
    if not error:
        fields.update(status=Delivery.Status.SENT, sent_at=timezone.now())
    elif (400 <= status < 500 and status not in RETRYABLE_4XX) or attempts >= app_settings.DELIVERY_ATTEMPTS:
        fields.update(status=Delivery.Status.FAILED)
    else:
        fields.update(status=Delivery.Status.PENDING, next_attempt_at=timezone.now() + backoff(attempts))
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    log(
        ActivityLog.Kind.DELIVERY,
        delivery.inbox,
        not error,
        error,
        outcome=ActivityLog.Outcome.OK
        if not error
        else (ActivityLog.Outcome.STATUS if status else ActivityLog.Outcome.ERROR),
        status=status,
        activity_type=str(delivery.payload.get("type", "")),
        attempt=attempts,
    )
    return not error


def deliver_due(limit: int = 200) -> dict[str, int]:
    """Send what is due (retries, and deliveries whose worker died mid-send). Nothing while
    federation is off: what is owed, a retraction decided meanwhile too, waits until it is on."""
    counts = {"sent": 0, "failed": 0}
    if not FederationSettings.load().enabled:
        return counts
    for delivery in list(Delivery.objects.filter(_due()).order_by("next_attempt_at", "pk")[:limit]):
        if not _claim(delivery):
            continue
        counts["sent" if send(delivery) else "failed"] += 1
    return counts
