"""Manage my replies, as a guest: ask with an email, get a signed link, and act on every reply
made with that email. Each action is checked in the database."""

import json
import re
from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from speakout.discussion.models import Commenter, Flag, ModerationLogEntry, Reply
from speakout.discussion.services import flag_reply, set_status
from speakout.outbox.models import OutgoingMail
from speakout.privacy import tokens
from speakout.privacy.models import ManageRequest
from speakout.subscriptions.models import Subscription
from speakout.subscriptions.services import notify_reply_approved
from tests.privacy.helpers import EMAIL, mails_to, manage_path
from tests.subscriptions.helpers import HOLD

pytestmark = pytest.mark.django_db


def without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


# Asking for the link -----------------------------------------------------------------------------


def test_request_page_is_a_form(client):
    response = client.get("/privacy/my-replies/")
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()
    assert not ManageRequest.objects.exists()


def test_known_and_unknown_addresses_get_the_same_answer_and_only_known_get_mail(thread, reply_as, request_link):
    reply_as(thread)
    known = request_link(EMAIL)
    unknown = request_link("nobody@example.org")

    assert known.status_code == unknown.status_code == 200
    assert without_csrf_token(known) == without_csrf_token(unknown)
    assert known.cookies.keys() == unknown.cookies.keys()
    assert len(mails_to(EMAIL)) == 1
    assert mails_to("nobody@example.org") == []
    # The unknown address leaves no trace: its request row was deleted by the task.
    assert list(ManageRequest.objects.values_list("email", flat=True)) == [EMAIL]


def test_a_request_whose_task_was_not_queued_is_mailed_by_the_sweep(
    thread, reply_as, request_link, monkeypatch, caplog
):
    """The request is stored before its task is queued: a queue that fails then must not turn the
    answer into an error (nor make it differ by address), and the worker's sweep does the task's
    work, once, for the known address and the unknown one alike."""
    from speakout.privacy import jobs
    from speakout.privacy.tasks import send_manage_link_task
    from speakout.worker import scheduled_jobs

    reply_as(thread)

    def broken(*args, **kwargs):
        raise RuntimeError("the task queue is unavailable")

    monkeypatch.setattr(type(send_manage_link_task.get_backend()), "enqueue", broken)
    known = request_link(EMAIL)
    unknown = request_link("nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert without_csrf_token(known) == without_csrf_token(unknown)
    assert "the task queue is unavailable" in caplog.text
    assert mails_to(EMAIL) == [] and ManageRequest.objects.count() == 2
    monkeypatch.undo()

    jobs.send_unsent_manage_links()
    assert mails_to(EMAIL) == [], "a request whose task may still be waiting is left to it"

    ManageRequest.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    jobs.send_unsent_manage_links()
    assert len(mails_to(EMAIL)) == 1
    assert list(ManageRequest.objects.values_list("email", flat=True)) == [EMAIL], "the unknown one leaves no trace"
    jobs.send_unsent_manage_links()
    assert len(mails_to(EMAIL)) == 1, "swept once"
    request = ManageRequest.objects.get()
    assert send_manage_link_task.call(request.pk) is False, "a late task finds the work done"
    assert len(mails_to(EMAIL)) == 1
    paths = {path for _name, _every, path in scheduled_jobs()}
    assert "speakout.privacy.jobs.send_unsent_manage_links" in paths


def test_the_request_does_the_same_work_for_known_and_unknown_addresses(
    thread, reply_as, client, django_capture_on_commit_callbacks
):
    """Similar timing without timing anything: the request runs the same queries and enqueues one
    task either way; only the task, in the worker, looks the address up."""
    reply_as(thread)
    client.post("/privacy/my-replies/", {"email": "warm-up@example.org"})  # the client key, the session
    work = []
    for email in (EMAIL, "nobody@example.org"):
        with CaptureQueriesContext(connection) as queries:
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                client.post("/privacy/my-replies/", {"email": email})
        work.append(([re.sub(r"'[^']*'|\d+", "?", query["sql"]) for query in queries], len(callbacks)))
    assert work[0] == work[1]
    assert work[0][1] == 1


def test_a_subscriber_without_replies_is_known(subscribe, thread, request_link):
    subscribe("reader@example.org", thread=thread)
    request_link("Reader@Example.org")
    assert len(mails_to("reader@example.org")) == 1


def test_link_mail_is_multipart_and_names_no_address_in_the_link(thread, reply_as, request_link):
    reply_as(thread)
    request_link()
    mail = mails_to(EMAIL)[0]
    assert mail.html_body and mail.text_body
    path = manage_path(mail)
    assert "robin" not in path and "example" not in path
    assert path in mail.html_body


def test_bad_address_is_a_field_error(client):
    response = client.post("/privacy/my-replies/", {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not ManageRequest.objects.exists()


def test_requests_are_rate_limited_then_recover(thread, reply_as, request_link, settings):
    from django.core.cache import cache

    settings.SPEAKOUT_PRIVACY_REQUEST_LIMIT = (2, 3600)
    reply_as(thread)
    assert request_link().status_code == 200
    assert request_link().status_code == 200
    limited = request_link()
    assert limited.status_code == 429
    assert "Too many requests" in limited.content.decode()
    assert len(mails_to(EMAIL)) == 2
    cache.clear()  # the window passed
    assert request_link().status_code == 200


# The link --------------------------------------------------------------------------------------


def test_page_lists_every_reply_of_the_address_in_every_thread_held_ones_too(
    thread, other_thread, reply_as, manage_link, client
):
    published = reply_as(thread, body="Published words.")
    held = reply_as(other_thread, body="Held words.", checks=HOLD)
    someone_else = reply_as(thread, email="other@example.org", body="Not mine.")
    page = client.get(manage_link())
    html = page.content.decode()
    assert page.status_code == 200
    assert "Published words." in html and "Held words." in html
    assert "Not mine." not in html
    assert "Awaiting moderation" in html
    assert f"my-reply-{published.pk}" in html and f"my-reply-{held.pk}" in html
    assert f"my-reply-{someone_else.pk}" not in html
    assert page["Cache-Control"].startswith("max-age=0")
    assert page["Referrer-Policy"] == "no-referrer"


def test_forged_expired_and_wrong_purpose_tokens_are_refused(thread, reply_as, manage_link, client, settings):
    reply_as(thread)
    path = manage_link()
    token = path.rstrip("/").rsplit("/", 1)[1]
    request = ManageRequest.objects.get()
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_purpose = signing.dumps({"r": request.pk, "s": request.secret}, salt="speakout.subscriptions.confirm")
    wrong_secret = signing.dumps({"r": request.pk, "s": "guess"}, salt=tokens.PURPOSE)
    for bad in (forged, other_purpose, wrong_secret, "nonsense"):
        response = client.get(f"/privacy/my-replies/{bad}/")
        assert response.status_code == 400, bad
        assert "This link does not work" in response.content.decode()
    settings.SPEAKOUT_PRIVACY_LINK_MAX_AGE = -1  # every link is now past its age
    assert client.get(path).status_code == 400
    reply = Reply.objects.get()
    assert client.post(f"{path}reply/{reply.pk}/delete/").status_code == 400
    assert Reply.objects.filter(pk=reply.pk).exists()


def test_no_get_changes_anything(thread, reply_as, manage_link, client, subscribe):
    reply = reply_as(thread)
    subscribe(EMAIL, thread=thread)
    path = manage_link()
    before = (
        list(Reply.objects.values()),
        list(Subscription.objects.values()),
        list(Commenter.objects.values()),
    )
    for suffix in ("", "export.json", f"reply/{reply.pk}/edit/"):
        assert client.get(f"{path}{suffix}").status_code == 200
    for suffix in (f"reply/{reply.pk}/delete/", f"reply/{reply.pk}/anonymise/", "stop-notifications/", "forget/"):
        assert client.get(f"{path}{suffix}").status_code == 405
    after = (
        list(Reply.objects.values()),
        list(Subscription.objects.values()),
        list(Commenter.objects.values()),
    )
    assert before == after


def test_posts_need_the_csrf_token(thread, reply_as, manage_link):
    reply = reply_as(thread)
    path = manage_link()
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"{path}reply/{reply.pk}/delete/").status_code == 403
    assert Reply.objects.filter(pk=reply.pk).exists()


# Actions ---------------------------------------------------------------------------------------


def test_edit_within_the_window_goes_through_the_reply_pipeline(thread, reply_as, manage_link, client):
    reply = reply_as(thread)
    path = manage_link()
    response = client.post(f"{path}reply/{reply.pk}/edit/", {"body": "Now with *emphasis* <script>x</script>"})
    assert response.status_code == 303
    reply.refresh_from_db()
    assert reply.body.startswith("Now with *emphasis*")
    assert "<em>emphasis</em>" in reply.body_html and "<script>" not in reply.body_html
    assert reply.edited_at is not None


def test_edit_keeps_the_text_on_a_bad_body(thread, reply_as, manage_link, client):
    reply = reply_as(thread)
    response = client.post(f"{manage_link()}reply/{reply.pk}/edit/", {"body": ""})
    assert response.status_code == 400
    assert "Write something before sending." in response.content.decode()
    reply.refresh_from_db()
    assert reply.edited_at is None


def test_edit_after_the_window_is_refused(thread, reply_as, manage_link, client, rules):
    reply = reply_as(thread)
    Reply.objects.filter(pk=reply.pk).update(
        created_at=timezone.now() - timedelta(minutes=rules.edit_window_minutes + 1)
    )
    path = manage_link()
    assert client.get(f"{path}reply/{reply.pk}/edit/").status_code == 403
    assert client.post(f"{path}reply/{reply.pk}/edit/", {"body": "Late change"}).status_code == 403
    reply.refresh_from_db()
    assert reply.body != "Late change"
    assert f"{path}reply/{reply.pk}/edit/" not in client.get(path).content.decode()


def test_someone_elses_reply_cannot_be_touched(thread, reply_as, manage_link, client):
    mine = reply_as(thread)
    theirs = reply_as(thread, email="other@example.org")
    path = manage_link()
    for action in ("delete", "anonymise"):
        assert client.post(f"{path}reply/{theirs.pk}/{action}/").status_code == 404
    assert client.post(f"{path}reply/{theirs.pk}/edit/", {"body": "hijack"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.author_name == "Robin" and theirs.body != "hijack"
    assert mine.pk != theirs.pk


def test_delete_removes_the_reply_at_any_time(thread, reply_as, manage_link, client):
    reply = reply_as(thread)
    Reply.objects.filter(pk=reply.pk).update(created_at=timezone.now() - timedelta(days=400))
    thread.refresh_from_db()
    assert thread.approved_count == 1
    response = client.post(f"{manage_link()}reply/{reply.pk}/delete/")
    assert response.status_code == 303
    assert not Reply.objects.filter(pk=reply.pk).exists()
    thread.refresh_from_db()
    assert thread.approved_count == 0


def test_anonymise_keeps_the_text_and_leaves_no_way_back_to_the_email(thread, reply_as, manage_link, client, subscribe):
    reply = reply_as(thread, website="https://robin.example.org/", body="Words worth keeping.")
    other = reply_as(thread, body="Still signed.")
    # A notice about the reply went out to a subscriber: its stored copy carries the name.
    subscribe("watcher@example.org", thread=thread)
    notify_reply_approved(reply)
    flag_reply(reply, Flag.Reason.OTHER, "just checking", client_hash="reader-hash")
    set_status(reply, Reply.Status.PENDING, reason="second look")
    set_status(reply, Reply.Status.APPROVED, reason="fine")
    old = Reply.objects.get(pk=reply.pk)
    commenter = old.commenter

    response = client.post(f"{manage_link()}reply/{reply.pk}/anonymise/")
    assert response.status_code == 303
    reply.refresh_from_db()
    assert reply.body == "Words worth keeping." and reply.status == Reply.Status.APPROVED
    assert reply.author_name == "Anonymous" and reply.author_website == ""
    assert reply.commenter_id is None and reply.user_id is None
    assert reply.guest_key == "" and reply.client_hash == "" and reply.submission_id is None
    assert reply.avatar_key and reply.avatar_key not in (old.avatar_key, other.avatar_key)
    assert not ModerationLogEntry.objects.filter(reply=reply, commenter__isnull=False).exists()
    assert not OutgoingMail.objects.filter(dedupe_key__startswith=f"subscriptions:reply:{reply.pk}:").exists()
    # Nothing in the reply's row or its neighbours' rows points to the commenter or the email.
    values = [str(value) for value in Reply.objects.filter(pk=reply.pk).values().get().values()]
    values += [str(v) for row in Flag.objects.filter(reply=reply).values() for v in row.values()]
    values += [str(v) for row in ModerationLogEntry.objects.filter(reply=reply).values() for v in row.values()]
    for secret in (EMAIL, "Robin", "robin", old.guest_key, old.client_hash, old.avatar_key):
        assert not any(secret in value for value in values), secret
    assert not commenter.replies.filter(pk=reply.pk).exists()
    # The other reply is untouched.
    other.refresh_from_db()
    assert other.author_name == "Robin" and other.commenter_id == commenter.pk
    # And the anonymised reply no longer appears on the email's page.
    assert f"my-reply-{reply.pk}" not in client.get(manage_link()).content.decode()


def test_export_gives_everything_as_json(thread, other_thread, reply_as, manage_link, client, subscribe):
    reply_as(thread, body="One.")
    reply_as(other_thread, body="Two.", checks=HOLD)
    subscribe(EMAIL, thread=thread)
    response = client.get(f"{manage_link()}export.json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="my-replies.json"'
    data = json.loads(response.content)
    assert data["emails"] == [EMAIL]
    assert [reply["body"] for reply in data["replies"]] == ["One.", "Two."]
    assert [reply["status"] for reply in data["replies"]] == ["approved", "pending"]
    assert data["commenters"][0]["email"] == EMAIL
    assert data["subscriptions"][0]["kind"] == "thread"
    assert "client_hash" not in response.content.decode()


def test_stop_notifications_ends_every_subscription_of_the_address(thread, reply_as, manage_link, client, subscribe):
    reply_as(thread)
    subscribe(EMAIL, thread=thread)
    subscribe(EMAIL)  # new posts
    subscribe("other@example.org", thread=thread)
    response = client.post(f"{manage_link()}stop-notifications/")
    assert response.status_code == 303
    assert Subscription.objects.filter(email=EMAIL, unsubscribed_at__isnull=True).count() == 0
    assert Subscription.objects.filter(email=EMAIL).count() == 2
    assert Subscription.objects.filter(email="other@example.org", unsubscribed_at__isnull=True).count() == 1
    assert "No more notifications" in client.get(manage_link()).content.decode()


def test_forget_me_anonymises_all_and_erases_the_address(
    thread, other_thread, reply_as, manage_link, client, subscribe, request_link
):
    first = reply_as(thread)
    second = reply_as(other_thread, checks=HOLD)
    trashed = reply_as(thread)
    set_status(trashed, Reply.Status.TRASH)
    kept = reply_as(thread, email="other@example.org")
    subscribe(EMAIL, thread=thread)
    path = manage_link()
    assert client.post(f"{path}forget/").status_code == 303  # no confirmation: nothing happens
    assert Reply.objects.get(pk=first.pk).commenter_id is not None

    response = client.post(f"{path}forget/", {"confirm": "on"})
    assert response.status_code == 200
    assert "This link no longer works" in response.content.decode()
    for reply in (first, second, trashed):
        reply.refresh_from_db()
        assert reply.commenter_id is None and reply.author_name == "Anonymous"
    assert Reply.objects.get(pk=kept.pk).author_name == "Robin"
    assert not Subscription.objects.filter(email=EMAIL).exists()
    assert not OutgoingMail.objects.filter(to=EMAIL).exists()
    assert not ManageRequest.objects.filter(email=EMAIL).exists()
    commenter = Commenter.objects.get(email=EMAIL)
    assert commenter.forget_requested_at is not None and commenter.display_name == ""
    assert client.get(path).status_code == 400
    # A new request for the address finds nothing to manage, and so sends nothing.
    request_link(EMAIL)
    assert mails_to(EMAIL) == []


def test_an_empty_request_is_a_field_error(client):
    response = client.post("/privacy/my-replies/", {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
