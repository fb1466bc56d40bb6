"""Reply notifications: approved replies only, once per reply, never to the reply's own author;
the reply form's two boxes request subscriptions for the commenter's address."""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks.backends.immediate import ImmediateBackend

from speakout.discussion.models import Reply
from speakout.discussion.services import Author, set_status
from speakout.outbox.models import OutgoingMail
from speakout.subscriptions import services
from speakout.subscriptions.models import NotifiedReply, Subscription
from speakout.worker import run_due_jobs
from tests.subscriptions.helpers import HOLD, SPAM, mails_to

pytestmark = pytest.mark.django_db


def test_published_reply_notifies_confirmed_subscribers_except_its_author(thread, post_reply, subscribe):
    subscribe("ada@example.org", thread=thread)
    subscribe("bob@example.org", thread=thread)
    other = subscribe("carol@example.org", thread=thread)
    other.unsubscribed_at = other.confirmed_at
    other.save()
    from allauth.account.models import EmailAddress

    # The author proved the address (a guest's typed one proves nothing, see the next test).
    bob = get_user_model().objects.create_user("bob", "Bob@example.org", "pw-long-enough-1")
    EmailAddress.objects.create(user=bob, email="bob@example.org", verified=True, primary=True)
    result = post_reply(thread, author=Author(user=bob), body="Hello thread")
    assert result.outcome == "published"
    [mail] = mails_to("ada@example.org")
    assert "A test report" in mail.subject
    assert "Hello thread" in mail.text_body and f"#reply-{result.reply.pk}" in mail.html_body
    assert (
        mail.headers["List-Unsubscribe"].startswith("<http")
        and "/subscriptions/unsubscribe/" in mail.headers["List-Unsubscribe"]
    )
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mails_to("bob@example.org") == []  # the author
    assert mails_to("carol@example.org") == []  # unsubscribed


def test_a_follower_hears_of_a_reply_a_guest_typed_their_address_on(thread, post_reply, subscribe):
    """Whether a reply is the follower's own is decided by proof: a typed address would let
    anyone silence a follower's mail about the replies written in their name."""
    subscribe("bob@example.org", thread=thread)
    result = post_reply(thread, email="Bob@example.org", body="Typed with Bob's address")
    assert result.outcome == "published"
    [mail] = mails_to("bob@example.org")
    assert "Typed with Bob's address" in mail.text_body


@pytest.mark.parametrize("checks", [HOLD, SPAM], ids=["held", "spam"])
def test_held_and_spam_replies_notify_nobody_and_approval_notifies_once(thread, post_reply, subscribe, checks):
    subscribe("ada@example.org", thread=thread)
    result = post_reply(thread, checks=checks, email="bob@example.org", body="<b>Buy</b> now")
    assert result.outcome == "held"
    assert mails_to("ada@example.org") == []
    set_status(result.reply, Reply.Status.APPROVED)
    [mail] = mails_to("ada@example.org")
    assert "&lt;b&gt;Buy&lt;/b&gt;" in mail.html_body  # autoescaped
    set_status(result.reply, Reply.Status.PENDING)
    set_status(result.reply, Reply.Status.APPROVED)
    assert len(mails_to("ada@example.org")) == 1
    assert NotifiedReply.objects.count() == 1


def test_moving_to_other_queues_notifies_nobody(thread, post_reply, subscribe):
    subscribe("ada@example.org", thread=thread)
    result = post_reply(thread, checks=HOLD, email="bob@example.org")
    set_status(result.reply, Reply.Status.SPAM)
    set_status(result.reply, Reply.Status.TRASH)
    assert mails_to("ada@example.org") == []


def test_reply_form_boxes_request_subscriptions_for_a_guest(thread, post_reply):
    post_reply(thread, email="ada@example.org", notify_replies="on", notify_posts="on")
    kinds = sorted(Subscription.objects.filter(email="ada@example.org").values_list("kind", flat=True))
    assert kinds == ["posts", "thread"]
    assert not Subscription.objects.filter(confirmed_at__isnull=False).exists()
    mails = mails_to("ada@example.org")
    assert len(mails) == 2 and all("/subscriptions/confirm/" in mail.text_body for mail in mails)


def test_reply_form_boxes_unticked_request_nothing(thread, post_reply):
    post_reply(thread, email="ada@example.org")
    assert not Subscription.objects.exists()


def test_spam_reply_requests_no_subscription(thread, post_reply):
    post_reply(thread, checks=SPAM, email="victim@example.org", notify_replies="on")
    assert not Subscription.objects.exists() and mails_to("victim@example.org") == []


def test_signed_in_commenter_subscribes_with_the_account_address(thread, post_reply):
    user = get_user_model().objects.create_user("ada", email="ada.account@example.org", password="x")
    post_reply(thread, author=Author(user=user, client_hash="c"), email="", notify_replies="on")
    assert Subscription.objects.get().email == "ada.account@example.org"


def test_reply_form_shows_the_boxes(client, thread, rules):
    from speakout.discussion.views import reply_form_context

    request = client.get("/").wsgi_request
    html = __import__("django.template.loader", fromlist=["render_to_string"]).render_to_string(
        "discussion/reply_form.html", reply_form_context(request, thread, rules=rules), request=request
    )
    assert 'name="notify_replies"' in html and 'name="notify_posts"' in html
    assert "Notify me of new comments by email" in html and "Notify me of new posts by email" in html


# In the background ----------------------------------------------------------------------------


def test_the_mails_are_queued_by_a_task_once_the_reply_commits(
    thread, post_reply, subscribe, django_capture_on_commit_callbacks
):
    """Storing the reply records it; its commit starts the task (run at once by the tests' task
    queue) that queues the followers' mails."""
    subscribe("ada@example.org", thread=thread)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = post_reply(thread, email="bob@example.org", body="Hello thread")
    assert NotifiedReply.objects.filter(reply=result.reply, notified_at__isnull=True).exists()
    assert not OutgoingMail.objects.filter(to="ada@example.org").exists()  # not before the commit
    for callback in callbacks:
        callback()
    [mail] = OutgoingMail.objects.filter(to="ada@example.org")
    assert "Hello thread" in mail.text_body
    assert NotifiedReply.objects.get(reply=result.reply).notified_at is not None


def test_a_rolled_back_reply_records_nothing_and_starts_no_task(
    thread, post_reply, subscribe, django_capture_on_commit_callbacks
):
    subscribe("ada@example.org", thread=thread)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            post_reply(thread, email="bob@example.org")
            raise RuntimeError("the surrounding work failed")
    assert callbacks == []
    assert not NotifiedReply.objects.exists() and not OutgoingMail.objects.exists()


def test_a_reply_held_before_the_worker_runs_is_announced_when_approved_again(thread, post_reply, subscribe):
    subscribe("ada@example.org", thread=thread)
    result = post_reply(thread, email="bob@example.org", body="Said in haste")
    set_status(result.reply, Reply.Status.PENDING)  # a moderator was quicker than the worker
    assert services.send_due_reply_notifications() == 0
    assert not NotifiedReply.objects.exists(), "forgotten, so that a later approval announces it"
    set_status(result.reply, Reply.Status.APPROVED)
    [mail] = mails_to("ada@example.org")
    assert "Said in haste" in mail.text_body


def test_a_reply_held_while_its_mails_are_rendered_is_not_announced(thread, post_reply, subscribe, monkeypatch):
    """The mails are rendered outside the transaction that queues them; the reply's status is
    read again under the claim."""
    subscribe("ada@example.org", thread=thread)
    result = post_reply(thread, email="bob@example.org")
    render = services._reply_mails

    def render_then_hold(reply, followers):
        prepared = render(reply, followers)
        Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.PENDING)  # a moderator, meanwhile
        return prepared

    monkeypatch.setattr(services, "_reply_mails", render_then_hold)
    assert services.send_due_reply_notifications() == 0
    assert not NotifiedReply.objects.exists() and not OutgoingMail.objects.exists()
    monkeypatch.setattr(services, "_reply_mails", render)
    set_status(Reply.objects.get(pk=result.reply.pk), Reply.Status.APPROVED)
    assert len(mails_to("ada@example.org")) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_announce_each_reply_once(thread, post_reply, subscribe, settings):
    """Each batch is claimed in the transaction that queues its mails (on PostgreSQL with
    SKIP LOCKED), so workers running side by side share the replies instead of both announcing
    them. The mails' deduplication keys would hide a double announcement; the counts do not."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # keeps them waiting
    subscribe("ada@example.org", thread=thread)
    for number in range(12):
        post_reply(thread, email=f"writer-{'abcdefghijkl'[number]}@example.org")
    # SQLite's test database is in memory, where threads must take turns; PostgreSQL's are free.
    one_at_a_time = threading.Lock() if connection.vendor == "sqlite" else nullcontext()
    start = threading.Barrier(2)
    queued: list[int] = []
    failures: list[BaseException] = []

    def worker():
        try:
            start.wait(timeout=10)
            with one_at_a_time:
                queued.append(services.send_due_reply_notifications())
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    with mock.patch.object(services, "NOTIFICATION_BATCH", 6):
        for thread_ in workers:
            thread_.start()
        for thread_ in workers:
            thread_.join(timeout=60)
    assert not failures, failures
    assert sum(queued) == 12, queued
    assert OutgoingMail.objects.filter(to="ada@example.org").count() == 12
    assert not NotifiedReply.objects.filter(notified_at__isnull=True).exists()


def test_the_sweep_announces_replies_whose_task_was_lost(
    thread, post_reply, subscribe, settings, django_capture_on_commit_callbacks, caplog
):
    """A task queue that fails after the commit costs the reply nothing: it is stored, the failure
    is logged, and the worker's clock (run_due_jobs) queues the mails."""
    settings.TASKS = {"default": {"BACKEND": "tests.subscriptions.test_replies.RefusingBackend"}}
    subscribe("ada@example.org", thread=thread)
    with django_capture_on_commit_callbacks(execute=True):
        result = post_reply(thread, email="bob@example.org")
    assert result.outcome == "published"
    assert "sweep" in caplog.text and not OutgoingMail.objects.filter(to="ada@example.org").exists()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert "send_due_reply_notifications" in run_due_jobs(time.monotonic(), {})
    assert OutgoingMail.objects.filter(to="ada@example.org").count() == 1


def test_the_worker_drains_the_queue_batch_after_batch(thread, post_reply, subscribe, monkeypatch):
    monkeypatch.setattr(services, "NOTIFICATION_BATCH", 2)
    subscribe("ada@example.org", thread=thread)
    for number in range(5):
        post_reply(thread, email=f"writer-{'abcde'[number]}@example.org", body=f"Reply {'abcde'[number]}")
    announce, claims = services._announce_batch, []

    def counted(size):
        claimed, mails = announce(size)
        claims.append(claimed)
        return claimed, mails

    monkeypatch.setattr(services, "_announce_batch", counted)
    assert services.send_due_reply_notifications() == 5
    assert claims == [2, 2, 1, 0], "batches of NOTIFICATION_BATCH until none is due"
    assert not NotifiedReply.objects.filter(notified_at__isnull=True).exists()
    assert OutgoingMail.objects.filter(to="ada@example.org").count() == 5


class RefusingBackend(ImmediateBackend):
    def enqueue(self, task, args, kwargs):
        raise ConnectionError("the task queue is unreachable")


def test_a_batch_holds_whole_replies_up_to_a_number_of_mails(thread, post_reply, subscribe, monkeypatch):
    """A busy thread's replies do not all go into one batch: their mails are held in memory
    between rendering and queueing. A reply is never split, even when it alone is over."""
    monkeypatch.setattr(services, "NOTIFICATION_MAILS", 3)
    for name in ("ada", "bea", "cai"):
        subscribe(f"{name}@example.org", thread=thread)
    for letter in "abc":
        post_reply(thread, email=f"writer-{letter}@example.org", body=f"Reply {letter}")
    assert services._announce_batch(100) == (1, 3)
    monkeypatch.setattr(services, "NOTIFICATION_MAILS", 6)
    assert services._announce_batch(100) == (2, 6)
    assert services._announce_batch(100) == (0, 0)
    assert OutgoingMail.objects.count() == 9


def test_a_reply_whose_mails_fail_to_render_waits_and_holds_up_no_other(
    thread, post_reply, subscribe, monkeypatch, caplog
):
    subscribe("ada@example.org", thread=thread)
    broken = post_reply(thread, email="writer-a@example.org", body="Reply a").reply
    post_reply(thread, email="writer-b@example.org", body="Reply b")
    render = services._reply_mails

    def failing_for_one(reply, followers):
        if reply.pk == broken.pk:
            raise RuntimeError("a template error")
        return render(reply, followers)

    monkeypatch.setattr(services, "_reply_mails", failing_for_one)
    assert services.send_due_reply_notifications() == 1
    assert "could not be rendered" in caplog.text
    [mail] = OutgoingMail.objects.filter(to="ada@example.org")
    assert "Reply b" in mail.text_body
    assert NotifiedReply.objects.get(reply=broken).notified_at is None, "still waiting"
    monkeypatch.setattr(services, "_reply_mails", render)
    assert services.send_due_reply_notifications() == 1
    assert OutgoingMail.objects.filter(to="ada@example.org").count() == 2


def test_a_batch_of_notification_mails_is_queued_in_one_statement(thread, post_reply, subscribe):
    subscribe("ada@example.org", thread=thread)
    subscribe("bob@example.org", thread=thread)
    for letter in "xyz":
        post_reply(thread, email=f"writer-{letter}@example.org", body=f"Reply {letter}")
    with CaptureQueriesContext(connection) as statements:
        assert services.send_due_reply_notifications() == 6
    inserts = [query for query in statements.captured_queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "speakout_outbox_outgoingmail" in inserts[0]["sql"]
    assert OutgoingMail.objects.filter(to="ada@example.org").count() == 3
    assert OutgoingMail.objects.filter(dedupe_key__startswith="subscriptions:reply:").count() == 6
