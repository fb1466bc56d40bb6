"""The 503 answer when the database cannot be used: the typed text comes back, never a 500.

These run in the test process with the database failure injected where the real one would
surface; tests/reliability/test_faults*.py cause the real failures against a running server.
"""

from __future__ import annotations

import errno
import html
import json
import re
import time
import uuid
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings, Reply
from speakout.discussion.services import get_or_create_thread
from speakout.theme.errors import database_unavailable

pytestmark = pytest.mark.django_db

BODY = "Line one of a long reply,\nwith <b>markup</b> & an emoji 🌍 — all of it kept."


@pytest.fixture
def client():
    # Django's test client re-raises a view's exception; the site answers it instead.
    return Client(raise_request_exception=False)


@pytest.fixture
def thread(db):
    return get_or_create_thread("report-outage", url="http://testserver/reports/outage/", title="Outage")


def reply_fields(thread, **changes):
    data = {
        "thread": thread.key,
        "name": "Robin",
        "email": "robin@example.org",
        "body": BODY,
        "notify_replies": "on",
        "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
        "submission_id": uuid.uuid4().hex,
        "homepage": "",
    }
    data.update(changes)
    return data


def database_down(*args, **kwargs):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def hidden_inputs(page: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    }


def textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea [^>]*name="{name}"[^>]*>\n(.*?)</textarea>', page, re.DOTALL)
    assert match, f"no textarea {name!r} in:\n{page}"
    return html.unescape(match.group(1))


def test_a_reply_form_gets_503_with_every_field_to_send_again(client, thread):
    """The page says it could not save, and its form carries the same fields to the same URL."""
    data = reply_fields(thread)
    with mock.patch("speakout.discussion.services.submit_reply", side_effect=database_down):
        response = client.post("/discussion/post/", data)
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Could not save, please try again" in page
    assert 'action="/discussion/post/"' in page
    assert textarea(page, "body") == BODY
    assert 'name="name" value="Robin"' in page
    assert 'name="email" value="robin@example.org"' in page
    hidden = hidden_inputs(page)
    for name in ("thread", "form_token", "submission_id", "notify_replies"):
        assert hidden[name] == data[name], name
    assert "csrfmiddlewaretoken" in hidden


def test_sending_the_503_form_again_stores_the_reply_once(client, thread, settings):
    """What the 503 page sends back is a valid submission; sending it twice stores one reply."""
    from speakout.discussion.models import DiscussionSettings

    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    with mock.patch("speakout.discussion.services.submit_reply", side_effect=database_down):
        page = client.post("/discussion/post/", reply_fields(thread)).content.decode()
    again = {**hidden_inputs(page), "body": textarea(page, "body"), "name": "Robin", "email": "robin@example.org"}
    assert client.post("/discussion/post/", again).status_code == 303
    assert client.post("/discussion/post/", again).status_code == 303
    assert list(Reply.objects.values_list("body", flat=True)) == [BODY]


def test_the_json_api_gets_503_with_the_fields_echoed(client, thread):
    payload = {"body": BODY, "name": "Robin", "email": "robin@example.org", "submission_id": "abc123"}
    with mock.patch("speakout.discussion.services.submit_reply", side_effect=database_down):
        response = client.post(
            f"/api/threads/{thread.key}/replies", json.dumps(payload), content_type="application/json"
        )
    assert response.status_code == 503
    body = response.json()
    assert body["outcome"] == "unavailable"
    assert "Could not save" in body["errors"]["__all__"][0]
    assert body["submitted"] == payload


def test_the_enhanced_form_gets_json_with_the_fields(client, thread):
    """The page's script asks for JSON and shows errors.__all__; the textarea keeps its text."""
    data = reply_fields(thread)
    with mock.patch("speakout.discussion.services.submit_reply", side_effect=database_down):
        response = client.post("/discussion/post/", data, headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.json()["submitted"]["body"] == BODY


def test_a_lost_connection_is_unavailable_too(client, thread):
    error = InterfaceError("connection already closed")
    with mock.patch("speakout.discussion.services.submit_reply", side_effect=error):
        assert client.post("/discussion/post/", reply_fields(thread)).status_code == 503


def test_a_subscription_request_gets_503_with_the_address(client, thread):
    data = {
        "thread": thread.key,
        "email": "sam@example.org",
        "notify_replies": "on",
        "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
    }
    with mock.patch("speakout.subscriptions.services.request_subscription", side_effect=database_down):
        response = client.post("/subscriptions/follow/", data)
    assert response.status_code == 503
    assert 'name="email" value="sam@example.org"' in response.content.decode()


def test_a_contact_message_gets_503_when_the_page_cannot_even_be_found(client, site_builder):
    """With the database down, Wagtail cannot route to the contact page: the generic page
    still returns the message."""
    with mock.patch("wagtail.models.Site.find_for_request", side_effect=database_down):
        response = client.post("/contact/", {"name": "Ada", "email": "ada@example.net", "message": BODY})
    assert response.status_code == 503
    assert textarea(response.content.decode(), "message") == BODY


def test_a_reading_page_gets_503_not_500(client, site_builder):
    with mock.patch("wagtail.models.Site.find_for_request", side_effect=database_down):
        response = client.get("/")
    assert response.status_code == 503
    assert "cannot reach its database" in response.content.decode()


def test_any_other_error_is_still_a_500(client, thread):
    with mock.patch("speakout.discussion.services.submit_reply", side_effect=RuntimeError("a bug")):
        response = client.post("/discussion/post/", reply_fields(thread))
    assert response.status_code == 500
    assert BODY not in response.content.decode()


def test_a_full_disk_met_by_the_page_cache_s_version_files_is_a_503_with_the_text(client, thread):
    """The page cache's version files live beside a SQLite database (even with Redis): a reply
    whose version bump meets the full disk is rolled back and answered as the database's own
    "disk is full" is, not with a 500 that loses the text."""
    # The rules' row made first and the reply published at once, so the write that meets the full
    # disk is the reply's own version bump (not the row's, nor none for a held reply).
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    full = OSError(errno.ENOSPC, "No space left on device")
    with mock.patch("speakout.pagecache.versions.FileVersions._written", side_effect=full) as written:
        response = client.post("/discussion/post/", reply_fields(thread))
    assert written.called
    assert response.status_code == 503
    assert textarea(response.content.decode(), "body") == BODY
    assert not Reply.objects.exists()


def test_only_database_availability_errors_count():
    assert database_unavailable(OperationalError("database is locked"))
    assert database_unavailable(OperationalError("database or disk is full"))
    wrapped = RuntimeError("while saving")
    wrapped.__cause__ = InterfaceError("closed")
    assert database_unavailable(wrapped)
    assert database_unavailable(OSError(errno.ENOSPC, "No space left on device"))
    assert database_unavailable(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not database_unavailable(OSError(errno.EACCES, "Permission denied"))
    assert not database_unavailable(ValueError("bad input"))
    assert not database_unavailable(None)


@pytest.mark.django_db(transaction=True)
def test_a_full_disk_after_the_reply_commits_still_answers_that_it_is_stored(client, thread, caplog):
    """In production no transaction surrounds the request, so an approved reply's version bump
    runs once the reply has committed. A full disk there must not answer "not stored, send it
    again" for a reply that is stored: the writer gets their reply, the failure goes to the log."""
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    full = OSError(errno.ENOSPC, "No space left on device")
    fields = reply_fields(thread)
    with mock.patch("speakout.pagecache.versions.FileVersions._written", side_effect=full) as written:
        response = client.post("/discussion/post/", fields)
    assert written.called
    reply = Reply.objects.get(submission_id=fields["submission_id"])
    assert response.status_code == 303, response.content.decode()[:500]
    assert f"#reply-{reply.pk}" in response["Location"] or str(reply.pk) in response["Location"]
    assert "No space left on device" in caplog.text

    # Another writer (address and name): the first one's pace limit holds.
    second = reply_fields(thread, body="A second reply, by the API.", name="Sam", email="sam@example.org")
    with mock.patch("speakout.pagecache.versions.FileVersions._written", side_effect=full):
        response = client.post(
            f"/api/threads/{thread.key}/replies",
            json.dumps({**second, "notify_replies": False}),
            content_type="application/json",
            REMOTE_ADDR="192.0.2.7",
        )
    assert response.status_code == 201, response.content.decode()[:500]
    assert Reply.objects.filter(body="A second reply, by the API.").exists()
