"""The retention purge removes exactly what has expired, nothing else, and logs counts only."""

import logging
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from speakout.contact.models import ContactMessage
from speakout.discussion.models import BannedClient, Commenter, Flag, ModerationLogEntry, Reply
from speakout.outbox.models import OutgoingMail
from speakout.privacy.models import ManageRequest
from speakout.privacy.purge import purge_expired
from speakout.subscriptions.models import Subscription
from speakout.worker import run_due_jobs, scheduled_jobs
from tests.subscriptions.helpers import HOLD

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(**kwargs):
    return NOW - timedelta(**kwargs)


def aged(reply, **kwargs):
    Reply.objects.filter(pk=reply.pk).update(created_at=ago(**kwargs), received_at=ago(**kwargs))
    return reply.pk


def test_client_hashes_older_than_the_retention_are_cleared_and_no_others(thread, reply_as):
    old = aged(reply_as(thread), days=31)
    recent = aged(reply_as(thread), days=29)
    old_flag = Flag.objects.create(reply_id=recent, reason="spam", client_hash="old-flagger")
    new_flag = Flag.objects.create(reply_id=recent, reason="spam", client_hash="new-flagger")
    Flag.objects.filter(pk=old_flag.pk).update(created_at=ago(days=31))
    old_message = ContactMessage.objects.create(name="A", email="a@example.org", message="Hi", client_hash="old-c")
    new_message = ContactMessage.objects.create(name="B", email="b@example.org", message="Hi", client_hash="new-c")
    ContactMessage.objects.filter(pk=old_message.pk).update(created_at=ago(days=31))
    old_ban = BannedClient.objects.create(client_hash="old-ban")
    BannedClient.objects.filter(pk=old_ban.pk).update(created_at=ago(days=31))
    BannedClient.objects.create(client_hash="new-ban")

    counts = purge_expired(NOW)

    assert Reply.objects.get(pk=old).client_hash == ""
    assert Reply.objects.get(pk=recent).client_hash != ""
    assert Flag.objects.get(pk=old_flag.pk).client_hash == ""
    assert Flag.objects.get(pk=new_flag.pk).client_hash == "new-flagger"
    assert ContactMessage.objects.get(pk=old_message.pk).client_hash == ""
    assert ContactMessage.objects.get(pk=new_message.pk).client_hash == "new-c"
    assert list(BannedClient.objects.values_list("client_hash", flat=True)) == ["new-ban"]
    assert counts["reply_client_hashes"] == 1
    assert counts["flag_client_hashes"] == 1
    assert counts["contact_client_hashes"] == 1
    assert counts["banned_client_hashes"] == 1
    # The text and everything else of the old reply stays.
    assert Reply.objects.get(pk=old).status == Reply.Status.APPROVED


def test_held_replies_never_moderated_are_deleted_after_the_period(thread, reply_as):
    stale_pending = aged(reply_as(thread, checks=HOLD), days=91)
    stale_spam = reply_as(thread, checks=HOLD)
    Reply.objects.filter(pk=stale_spam.pk).update(status=Reply.Status.SPAM)
    aged(stale_spam, days=91)
    looked_at = reply_as(thread, checks=HOLD)
    ModerationLogEntry.objects.create(reply=looked_at, action="pending", reason="keep an eye on it")
    aged(looked_at, days=91)
    young = aged(reply_as(thread, checks=HOLD), days=89)
    old_published = aged(reply_as(thread), days=400)

    counts = purge_expired(NOW)

    remaining = set(Reply.objects.values_list("pk", flat=True))
    assert remaining == {looked_at.pk, young, old_published}
    assert stale_pending not in remaining and stale_spam.pk not in remaining
    assert counts["held_replies"] == 2
    thread.refresh_from_db()
    assert thread.approved_count == 1


def test_held_replies_brought_in_by_an_import_are_kept_for_the_whole_period(thread, reply_as):
    """An imported archive's held replies keep their old dates; the period counts from their
    arrival here, so the first run of the worker after an import deletes none of them."""
    imported = reply_as(thread, checks=HOLD)
    Reply.objects.filter(pk=imported.pk).update(created_at=ago(days=3650), status=Reply.Status.SPAM)

    counts = purge_expired(NOW)

    assert Reply.objects.filter(pk=imported.pk).exists()
    assert counts["held_replies"] == 0


def test_forgotten_addresses_are_deleted_after_the_grace_period(db):
    due = Commenter.objects.create(email="due@example.org", forget_requested_at=ago(days=8))
    waiting = Commenter.objects.create(email="waiting@example.org", forget_requested_at=ago(days=6))
    ordinary = Commenter.objects.create(email="ordinary@example.org")
    Commenter.objects.filter(pk=ordinary.pk).update(created_at=ago(days=1000))

    counts = purge_expired(NOW)

    assert set(Commenter.objects.values_list("pk", flat=True)) == {waiting.pk, ordinary.pk}
    assert counts["forgotten_commenters"] == 1
    assert due.pk not in Commenter.objects.values_list("pk", flat=True)


def mail(status, **fields):
    return OutgoingMail.objects.create(
        to="someone@example.org",
        subject="s",
        text_body="t",
        status=status,
        message_id=f"<{uuid.uuid4().hex}@x>",
        **fields,
    )


def test_sent_and_failed_mail_is_deleted_after_the_period_pending_mail_never(db):
    old_sent = mail("sent", sent_at=ago(days=31))
    new_sent = mail("sent", sent_at=ago(days=29))
    old_failed = mail("failed", created_at=ago(days=31))
    new_failed = mail("failed", created_at=ago(days=2))
    old_pending = mail("pending", created_at=ago(days=40))
    old_sending = mail("sending", created_at=ago(days=40), claimed_at=ago(days=40))

    counts = purge_expired(NOW)

    remaining = set(OutgoingMail.objects.values_list("pk", flat=True))
    assert remaining == {new_sent.pk, new_failed.pk, old_pending.pk, old_sending.pk}
    assert counts["sent_mail"] == 2
    assert old_sent.pk not in remaining and old_failed.pk not in remaining


def test_finished_tasks_are_deleted_after_the_period_waiting_and_running_ones_never(settings):
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from speakout.outbox.tasks import send_outbox_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    def task(status, finished_days_ago=None):
        result = send_outbox_task.enqueue()
        finished = ago(days=finished_days_ago) if finished_days_ago is not None else None
        DBTaskResult.objects.filter(pk=result.id).update(status=status, finished_at=finished)
        return str(result.id)

    old_done = task(TaskResultStatus.SUCCESSFUL, 8)
    old_failed = task(TaskResultStatus.FAILED, 8)
    new_done = task(TaskResultStatus.SUCCESSFUL, 6)
    waiting = task(TaskResultStatus.READY)
    running = task(TaskResultStatus.RUNNING)

    counts = purge_expired(NOW)

    assert counts["task_results"] == 2
    remaining = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
    assert remaining == {new_done, waiting, running}
    assert old_done not in remaining and old_failed not in remaining


def test_ended_subscriptions_go_after_the_period_unconfirmed_ones_are_left_to_their_app(subscribe, thread):
    ended_long_ago = subscribe("a@example.org", thread=thread)
    Subscription.objects.filter(pk=ended_long_ago.pk).update(unsubscribed_at=ago(days=91))
    ended_recently = subscribe("b@example.org", thread=thread)
    Subscription.objects.filter(pk=ended_recently.pk).update(unsubscribed_at=ago(days=89))
    active = subscribe("c@example.org", thread=thread)
    Subscription.objects.filter(pk=active.pk).update(created_at=ago(days=900))
    unconfirmed = Subscription.objects.create(
        email="d@example.org", kind="posts", target="posts:", created_at=ago(days=900)
    )

    counts = purge_expired(NOW)

    assert set(Subscription.objects.values_list("pk", flat=True)) == {ended_recently.pk, active.pk, unconfirmed.pk}
    assert counts["ended_subscriptions"] == 1


def test_expired_link_requests_are_deleted(db):
    old = ManageRequest.objects.create(email="a@example.org", created_at=ago(hours=25))
    new = ManageRequest.objects.create(email="b@example.org", created_at=ago(hours=23))
    counts = purge_expired(NOW)
    assert list(ManageRequest.objects.values_list("pk", flat=True)) == [new.pk]
    assert counts["manage_link_requests"] == 1
    assert old.pk != new.pk


def test_zero_days_turns_a_purge_off(settings, thread, reply_as):
    settings.SPEAKOUT_DISCUSSION_CLIENT_HASH_DAYS = 0
    settings.SPEAKOUT_PRIVACY_HELD_REPLY_DAYS = 0
    settings.SPEAKOUT_PRIVACY_SENT_MAIL_DAYS = 0
    settings.SPEAKOUT_PRIVACY_UNSUBSCRIBED_DAYS = 0
    old = aged(reply_as(thread), days=365)
    held = aged(reply_as(thread, checks=HOLD), days=365)
    sent = mail("sent", sent_at=ago(days=365))
    purge_expired(NOW)
    assert Reply.objects.get(pk=old).client_hash != ""
    assert Reply.objects.filter(pk=held).exists()
    assert OutgoingMail.objects.filter(pk=sent.pk).exists()


def test_the_log_line_has_counts_and_nothing_personal(thread, reply_as, caplog):
    reply = reply_as(thread, email="secret-person@example.org", checks=HOLD)
    hash_value = Reply.objects.get(pk=reply.pk).client_hash
    aged(reply, days=91)
    with caplog.at_level(logging.INFO, logger="speakout.privacy"):
        purge_expired(NOW)
    lines = [record.getMessage() for record in caplog.records if record.name == "speakout.privacy"]
    assert len(lines) == 1
    assert "held_replies=1" in lines[0]
    assert "secret-person" not in lines[0] and hash_value not in lines[0]


def test_the_worker_runs_the_purge_on_its_schedule(thread, reply_as):
    assert ("privacy_purge", 3600, "speakout.privacy.jobs.purge_expired") in scheduled_jobs()
    old = aged(reply_as(thread), days=31)
    ran = run_due_jobs(10_000.0, {})
    assert "privacy_purge" in ran
    assert Reply.objects.get(pk=old).client_hash == ""
