"""Deliveries: signed, retried with backoff while the inbox fails, not retried when it refuses for
good, and sent again (once) when the worker that claimed one died mid-send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from speakout.federation import delivery
from speakout.federation.models import ActivityLog, Delivery

from .helpers import Inbox


def owed(inbox: str, **fields) -> Delivery:
    activity = {"id": f"http://testserver/federation/activities/create/{Delivery.objects.count()}", "type": "Create"}
    return Delivery.objects.create(activity_id=activity["id"], inbox=inbox, payload=activity, **fields)


def test_a_delivery_is_signed_and_sent_once(inbox):
    sent = owed(inbox)
    assert delivery.deliver_due() == {"sent": 1, "failed": 0}
    headers = Inbox.received[0]["headers"]
    assert 'keyId="http://testserver/federation/actor#main-key"' in headers["Signature"]
    assert headers["Digest"].startswith("SHA-256=") and headers["Content-Type"] == "application/activity+json"
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.SENT and sent.attempts == 1
    assert delivery.deliver_due() == {"sent": 0, "failed": 0} and len(Inbox.received) == 1
    assert ActivityLog.objects.filter(kind="delivery", ok=True).count() == 1


def test_a_failing_inbox_is_retried_with_backoff_and_a_refusal_is_final(inbox):
    Inbox.status = 503
    first = owed(inbox)
    delivery.deliver_due()
    first.refresh_from_db()
    assert first.status == Delivery.Status.PENDING and first.attempts == 1
    assert first.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert delivery.deliver_due()["failed"] == 0  # not due yet
    assert delivery.backoff(3) == timedelta(seconds=240)
    Inbox.status = 202
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    assert delivery.deliver_due()["sent"] == 1
    Inbox.status = 410
    gone = owed(inbox)
    delivery.deliver_due()
    gone.refresh_from_db()
    assert gone.status == Delivery.Status.FAILED and gone.attempts == 1


def test_a_delivery_whose_worker_died_is_sent_again_but_a_live_claim_is_left_alone(inbox):
    died = owed(inbox, status=Delivery.Status.SENDING, claimed_at=timezone.now() - timedelta(hours=1))
    alive = owed(inbox, status=Delivery.Status.SENDING, claimed_at=timezone.now())
    assert delivery.deliver_due()["sent"] == 1
    died.refresh_from_db()
    alive.refresh_from_db()
    assert died.status == Delivery.Status.SENT and alive.status == Delivery.Status.SENDING
    assert len(Inbox.received) == 1


def test_an_inbox_on_a_private_address_is_never_reached(federation):
    refused = owed("http://10.0.0.1/inbox")
    delivery.deliver_due()
    refused.refresh_from_db()
    assert refused.status == Delivery.Status.PENDING and "not public" in refused.last_error


@pytest.mark.django_db(transaction=True)
def test_a_queue_that_cannot_take_the_task_leaves_the_delivery_to_the_sweep(caplog, monkeypatch):
    """The task is enqueued after the commit: by then the delivery is stored, so a failure there
    must not turn the request that queued it (an Accept, a published reply) into an error."""
    from django.db import transaction

    from speakout.net import tasks

    def broken(task):
        raise RuntimeError("the task queue is unavailable")

    monkeypatch.setattr(tasks, "enqueue_unless_waiting", broken)
    activity = {"id": "http://testserver/federation/activities/create/sweep", "type": "Create"}
    with transaction.atomic():
        assert delivery.queue(activity, ["https://peer.example/inbox"]) == 1
    assert Delivery.objects.filter(activity_id=activity["id"], status=Delivery.Status.PENDING).exists()
    assert "the task queue is unavailable" in caplog.text
