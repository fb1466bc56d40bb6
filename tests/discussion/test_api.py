"""The discussion JSON API: the HTML form's pipeline as JSON, with whitelisted fields and one
error shape."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from speakout.discussion import services
from speakout.discussion.app_settings import GUEST_COOKIE_NAME as GUEST_COOKIE
from speakout.discussion.clients import sign_guest_token
from speakout.discussion.forms import issue_form_token, read_form_token
from speakout.discussion.models import DiscussionSettings, Flag, Reply, Thread
from tests.discussion.helpers import add_reply
from tests.discussion.helpers import old_form_token as form_token

pytestmark = pytest.mark.django_db

REPLY_FIELDS = {
    "id",
    "parent",
    "author_name",
    "author_website",
    "avatar_url",
    "body_html",
    "created_at",
    "edited_at",
    "status",
    "own",
    "can_change",
    "in_reply_to",
    "children",
}
ERROR_FIELDS = {"outcome", "code", "errors"}


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate limits live in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def thread():
    return services.get_or_create_thread("key", url="http://testserver/x/", title="T")


@pytest.fixture
def rules():
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    return rules


def post(client, key="key", *, guest="", raw=None, **fields):
    data = {
        "name": "Ana",
        "email": "ana@example.org",
        "body": "Hello *there*",
        "form_token": form_token(key),
        **fields,
    }
    headers = {"X-Speakout-Guest": guest} if guest else {}
    body = raw if raw is not None else json.dumps(data)
    return client.post(f"/api/threads/{key}/replies", body, content_type="application/json", headers=headers)


def get(client, key="key", *, guest="", **params):
    headers = {"X-Speakout-Guest": guest} if guest else {}
    return client.get(f"/api/threads/{key}", params, headers=headers)


def edit(client, reply_id: int, body: str, *, guest="", headers=None):
    headers = headers if headers is not None else ({"X-Speakout-Guest": guest} if guest else {})
    return client.patch(
        f"/api/replies/{reply_id}", json.dumps({"body": body}), content_type="application/json", headers=headers
    )


def assert_error(response, status: int, code: str, field: str = "__all__"):
    assert response.status_code == status, response.content
    data = response.json()
    assert ERROR_FIELDS <= set(data) <= ERROR_FIELDS | {"form_token"}
    assert data["outcome"] == "rejected"
    assert data["code"] == code
    assert data["errors"][field] and all(isinstance(m, str) for m in data["errors"][field])
    return data


def walk(replies):
    for reply in replies:
        yield reply
        yield from walk(reply["children"])


# Reading --------------------------------------------------------------------------------------


def test_thread_is_nested_and_paged_by_top_level_reply(client, thread, rules):
    """Replies come nested in children arrays; pages hold top-level replies and their subtrees."""
    rules.replies_per_page = 2
    rules.save()
    first = add_reply(thread, "first", name="Al")
    child = add_reply(thread, "child", parent=first, name="Bea")
    add_reply(thread, "grandchild", parent=child, name="Cy")
    add_reply(thread, "second", name="Di")
    add_reply(thread, "third", name="Ed")

    response = get(client)
    assert response.status_code == 200
    data = response.json()
    assert data["thread"] == {
        "key": "key",
        "title": "T",
        "url": "http://testserver/x/",
        "status": "open",
        "count": 5,
        "accepts_replies": True,
    }
    assert data["page"] == {"number": 1, "count": 2, "per_page": 2, "sort": "oldest"}
    assert [r["author_name"] for r in data["replies"]] == ["Al", "Di"]
    (child_out,) = data["replies"][0]["children"]
    assert child_out["author_name"] == "Bea" and child_out["parent"] == first.pk
    assert [r["author_name"] for r in child_out["children"]] == ["Cy"]
    assert read_form_token(data["form_token"], "key") is not None

    page_two = get(client, page=2).json()
    assert page_two["page"]["number"] == 2
    assert [r["author_name"] for r in page_two["replies"]] == ["Ed"]

    newest = get(client, sort="newest").json()
    assert newest["page"]["sort"] == "newest"
    assert [r["author_name"] for r in newest["replies"]] == ["Ed", "Di"]


def test_thread_flattens_nesting_beyond_the_deepest_level(client, thread, rules):
    """Past max_depth, replies sit beside their parent and name whom they answer."""
    rules.max_depth = 2
    rules.save()
    top = add_reply(thread, "top", name="Al")
    middle = add_reply(thread, "middle", parent=top, name="Bea")
    add_reply(thread, "deep", parent=middle, name="Cy")
    (top_out,) = get(client).json()["replies"]
    assert [r["author_name"] for r in top_out["children"]] == ["Bea", "Cy"]
    assert top_out["children"][1]["in_reply_to"] == "Bea"


def test_bad_query_parameters_get_the_error_object(client, thread):
    """A page below 1 or an unknown sort is a 400 naming the parameter."""
    assert_error(get(client, page=0), 400, "invalid", "page")
    assert_error(get(client, sort="sideways"), 400, "invalid", "sort")


def test_responses_carry_whitelisted_fields_only(client, thread, rules):
    """No email, client hash, guest key or commenter id in any response."""
    created = post(client, website="https://ana.example.org/")
    assert created.status_code == 201
    add_reply(thread, "an answer", parent=Reply.objects.get(), name="Bo")
    guest = created.json()["guest_token"]
    responses = [created, get(client), get(client, guest=guest)]
    reply = Reply.objects.get(author_name="Ana")
    responses.append(edit(client, reply.pk, "Changed", guest=guest))
    for response in responses:
        assert response.status_code in (200, 201)
        text = response.content.decode()
        for secret in ("ana@example.org", "bo@example.org", reply.client_hash, reply.guest_key):
            assert secret not in text
        for word in ("email", "client_hash", "guest_key", "commenter"):
            assert word not in text
    listed = list(walk(get(client, guest=guest).json()["replies"]))
    assert len(listed) == 2
    assert all(set(item) == REPLY_FIELDS for item in listed)
    assert set(created.json()["reply"]) == REPLY_FIELDS


def test_others_held_replies_are_never_listed(client, thread, rules):
    """Pending and spam replies of others stay out; only approved ones show."""
    add_reply(thread, "fine", name="Al")
    add_reply(thread, "waiting", name="Bea", status=Reply.Status.PENDING)
    add_reply(thread, "spam", name="Cy", status=Reply.Status.SPAM)
    add_reply(thread, "gone", name="Di", status=Reply.Status.TRASH)
    replies = get(client).json()["replies"]
    listed = [(r["author_name"], r["status"], r["own"]) for r in replies]
    assert listed == [("Al", "approved", False)]


# Writing --------------------------------------------------------------------------------------


def test_post_published(client, thread, rules):
    """A reply that passes every check is published at once: 201 with the reply and a token."""
    response = post(client, submission_id="s-1")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["outcome"] == "published"
    assert data["reply"]["status"] == "approved"
    assert data["reply"]["own"] is True and data["reply"]["can_change"] is True
    assert data["reply"]["body_html"].strip() == "<p>Hello <em>there</em></p>"
    assert data["guest_token"]
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.APPROVED and reply.pk == data["reply"]["id"]
    assert "Set-Cookie" not in response.headers
    listed = get(client).json()["replies"]
    assert [r["id"] for r in listed] == [reply.pk]


@pytest.mark.parametrize("encode", [False, True], ids=["as-is", "percent-encoded"])
def test_a_key_with_slashes_is_read_and_posted_to(client, rules, encode):
    """A page's path as its thread's key (a site that embeds the discussion app alone keys
    threads so): the API reads the thread and takes a reply, with the key in the address as it
    is or percent-encoded."""
    key = "/reports/2026/housing/"
    services.get_or_create_thread(key, url="http://testserver/reports/2026/housing/", title="Housing")
    in_address = quote(key, safe="") if encode else key
    data = {"name": "Ana", "email": "ana@example.org", "body": "Under a path", "form_token": form_token(key)}
    response = client.post(f"/api/threads/{in_address}/replies", json.dumps(data), content_type="application/json")
    assert response.status_code == 201, response.content
    assert Reply.objects.get().thread.key == key
    read = client.get(f"/api/threads/{in_address}")
    assert read.status_code == 200, read.content
    assert read.json()["thread"]["key"] == key
    assert [reply["body_html"].strip() for reply in read.json()["replies"]] == ["<p>Under a path</p>"]


def test_post_held_for_a_first_time_commenter(client, thread):
    """By default a commenter's first reply waits for a moderator."""
    response = post(client)
    assert response.status_code == 201
    data = response.json()
    assert data["outcome"] == "held"
    assert data["reply"]["status"] == "held"
    assert Reply.objects.get().status == Reply.Status.PENDING


def test_post_a_reply_to_a_reply(client, thread, rules):
    parent = add_reply(thread, "question", name="Bo")
    response = post(client, parent=parent.pk)
    assert response.status_code == 201
    assert response.json()["reply"]["parent"] == parent.pk
    (top,) = get(client).json()["replies"]
    assert [r["author_name"] for r in top["children"]] == ["Ana"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"email": "not-an-address"}, "email"),
        ({"email": ""}, "email"),
        ({"name": ""}, "name"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "http://192.168.1.10/"}, "website"),
        ({"website": "http://[::1]:8000/"}, "website"),
        ({"website": "http://localhost/"}, "website"),
        ({"name": "Ana\u202etxt.exe"}, "name"),
        ({"name": "Admin"}, "name"),
    ],
)
def test_post_rejected_with_field_errors(client, thread, fields, field):
    """Each bad field gets a 400 naming it, a fresh form token, and nothing is stored."""
    data = assert_error(post(client, **fields), 400, "invalid", field)
    assert read_form_token(data["form_token"], "key") is not None
    assert not Reply.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"parent": "first"}, "parent"),
        ({"parent": 0}, "parent"),
        ({"body": 42}, "body"),
        ({"name": ["Ana"]}, "name"),
        ({"submission_id": "x" * 65}, "submission_id"),
    ],
)
def test_post_with_wrong_types_gets_the_same_error_object(client, thread, fields, field):
    assert_error(post(client, **fields), 400, "invalid", field)
    assert not Reply.objects.exists()


@pytest.mark.parametrize("website", ["[", "http://[::1"])
def test_post_with_a_broken_website_address(client, thread, website):
    assert_error(post(client, website=website), 400, "invalid", "website")


def test_post_too_fast_is_held_and_a_resend_after_an_error_is_not(client, thread):
    """A form token issued moments ago is one signal: the reply is kept and held for a moderator.
    A form sent again at once after an error is a person fixing it: the time trap lets it be."""
    response = post(client, form_token=issue_form_token("key"), body="Quick words.")
    assert response.status_code == 201, response.content
    quick = Reply.objects.get(body="Quick words.")
    assert quick.status == Reply.Status.PENDING and "of the form being shown" in quick.moderation_reason
    other = Client(REMOTE_ADDR="198.51.100.20")  # a second person: no rate limit shared
    refused = assert_error(post(other, email="not-an-address", body="Fixed words."), 400, "invalid", "email")
    resent = post(other, email="bea@example.org", form_token=refused["form_token"], body="Fixed words.")
    assert resent.status_code == 201, resent.content
    assert "of the form being shown" not in Reply.objects.get(body="Fixed words.").moderation_reason


def test_post_without_or_with_a_foreign_form_token(client, thread):
    assert_error(post(client, form_token=""), 400, "form_expired")
    assert_error(post(client, form_token=form_token("other")), 400, "form_expired")


def test_post_rate_limited(client, thread, rules):
    """A second reply straight after the first is refused with 429."""
    assert post(client).status_code == 201
    response = post(client, body="Another thought", email="other@example.org", name="Bo")
    assert_error(response, 429, "rate_limit")
    assert Reply.objects.count() == 1


def test_retried_submission_returns_the_first_reply(client, thread, rules):
    """The same submission_id twice stores one reply; the retry answers 200 with it."""
    first = post(client, submission_id="double-click")
    assert first.status_code == 201
    guest = first.json()["guest_token"]
    again = post(client, guest=guest, submission_id="double-click")
    assert again.status_code == 200, again.content
    assert again.json()["reply"]["id"] == first.json()["reply"]["id"]
    assert again.json()["reply"]["own"] is True
    assert "guest_token" not in again.json() or again.json()["guest_token"] is None
    assert Reply.objects.count() == 1
    # A retry that lost the first answer's token gets the reply, but no useless new token.
    lost = post(client, submission_id="double-click")
    assert lost.status_code == 200
    assert lost.json()["reply"]["own"] is False
    assert lost.json().get("guest_token") is None
    assert Reply.objects.count() == 1


def test_retried_submission_does_not_reveal_others_replies(client, thread):
    """A submission_id shows its held reply only to its author, and only in its own thread."""
    first = post(client, submission_id="held-one")
    assert first.json()["outcome"] == "held"
    assert_error(post(client, submission_id="held-one"), 400, "already_sent")
    services.get_or_create_thread("other", url="http://testserver/y/")
    assert_error(post(client, key="other", submission_id="held-one"), 400, "already_sent")
    guest = first.json()["guest_token"]
    again = post(client, guest=guest, submission_id="held-one")
    assert again.status_code == 200 and again.json()["reply"]["status"] == "held"
    assert Reply.objects.count() == 1


def test_empty_and_null_fields(client, thread):
    """An empty request body says so; null fields count as empty and get field messages."""
    response = client.post("/api/threads/key/replies", "", content_type="application/json")
    assert_error(response, 400, "invalid_json")
    data = assert_error(post(client, body=None, name=None, website=None), 400, "invalid", "body")
    assert set(data["errors"]) == {"body", "name"}


def test_post_the_same_text_twice(client, thread, rules):
    """The duplicate check names the body."""
    first = post(client)
    assert first.status_code == 201
    cache.clear()  # past the rate limit
    assert_error(post(client, guest=first.json()["guest_token"]), 400, "duplicate", "body")


def test_post_too_large(client, thread, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert_error(post(client, body="x" * 2000), 400, "too_large")
    assert not Reply.objects.exists()


def test_post_to_a_closed_thread(client, thread):
    Thread.objects.filter(pk=thread.pk).update(status=Thread.Status.CLOSED)
    assert_error(post(client), 400, "closed")
    assert get(client).json()["thread"]["accepts_replies"] is False


def test_post_to_a_missing_parent(client, thread):
    assert_error(post(client, parent=999_999), 400, "parent")
    assert_error(post(client, parent=2**70), 400, "invalid", "parent")


def test_a_parent_that_is_held_or_elsewhere_answers_as_a_missing_one(client, thread):
    """A parent nobody may answer (held, spam, in another or a private thread) gets the answer an
    id that was never used gets: a different one would tell which ids hold a reply."""
    held = Reply.objects.create(thread=thread, author_name="Held", body="x", body_html="<p>x</p>")
    other = services.get_or_create_thread("elsewhere", url="http://testserver/y/", title="Y")
    elsewhere = Reply.objects.create(
        thread=other, author_name="Else", body="y", body_html="<p>y</p>", status=Reply.Status.APPROVED
    )
    missing = assert_error(post(client, parent=999_999), 400, "parent")
    for parent in (held, elsewhere):
        answer = assert_error(post(client, parent=parent.pk, body=f"Answer to {parent.author_name}"), 400, "parent")
        assert answer["errors"] == missing["errors"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ('{"body": "unfinished', "invalid_json"),
        ("not json at all", "invalid_json"),
        ('{"body": NaN}', "invalid_json"),
        ("[" * 100_000, "invalid_json"),
        (b'{"body": "caf\xe9"}', "invalid_utf8"),
        (b'{"body": "\xed\xa0\x80"}', "invalid_utf8"),  # a surrogate encoded as UTF-8 bytes
    ],
)
def test_post_refuses_a_body_that_is_not_json_text(client, thread, raw, code):
    """Invalid JSON or UTF-8 is a 400 that says so; never a 500, never a silent repair."""
    data = assert_error(post(client, raw=raw), 400, code)
    assert "JSON" in data["errors"]["__all__"][0] or "UTF-8" in data["errors"]["__all__"][0]
    assert not Reply.objects.exists()


@pytest.mark.parametrize("field", ["body", "name", "email", "website", "submission_id", "homepage"])
def test_post_refuses_lone_surrogates(client, thread, rules, field):
    """A "\\ud800" escape anywhere is refused with a clear message, not stored or replaced."""
    fields = {
        "name": "Ana",
        "email": "ana@example.org",
        "body": "Hello",
        "form_token": form_token(),
        field: "bad \\ud800 text",
    }
    raw = "{" + ", ".join(f'"{k}": "{v}"' for k, v in fields.items()) + "}"
    data = assert_error(post(client, raw=raw), 400, "invalid_characters")
    assert "surrogate" in data["errors"]["__all__"][0]
    assert not Reply.objects.exists()


def test_post_accepts_a_surrogate_pair(client, thread, rules):
    """An escaped pair is one real character (an emoji), and is kept as such."""
    raw = json.dumps({"name": "Ana", "email": "ana@example.org", "form_token": form_token()})
    raw = raw[:-1] + ', "body": "Nice \\ud83d\\ude00"}'
    response = post(client, raw=raw)
    assert response.status_code == 201, response.content
    assert Reply.objects.get().body == "Nice \U0001f600"


def test_post_to_a_missing_thread_is_404(client):
    assert_error(post(client, key="nowhere"), 404, "not_found")


def test_post_needs_no_csrf_token(thread, rules):
    """Writes grant nothing to cookies, so they need no CSRF token."""
    strict = Client(enforce_csrf_checks=True)
    assert post(strict).status_code == 201


# The author's own replies ---------------------------------------------------------------------


def test_own_held_reply_shows_only_with_the_guest_header(client, thread):
    """A held reply is listed, marked held, for the guest who sent it; for no one else."""
    created = post(client)
    guest = created.json()["guest_token"]
    assert get(client).json()["replies"] == []
    (mine,) = get(client, guest=guest).json()["replies"]
    assert mine["status"] == "held" and mine["own"] is True and mine["can_change"] is True
    assert mine["id"] == created.json()["reply"]["id"]
    assert get(client, guest=sign_guest_token("someone-else")).json()["replies"] == []
    assert get(client, guest="forged").json()["replies"] == []


def test_a_guest_without_replies_gets_the_shared_answer_and_one_with_replies_their_own(client, thread, rules):
    """A guest token with nothing of its own in the thread reads the same replies as everyone,
    from the list kept under the thread's version; once the guest's reply is there, their
    answer marks it as theirs and the shared one does not."""
    add_reply(thread, "Everyone sees this.")
    stranger = sign_guest_token("a-stranger")
    anonymous = get(Client()).json()
    assert get(client, guest=stranger).json()["replies"] == anonymous["replies"]
    with django_assert_queries_fewer_than(client, 4):
        assert get(client, guest=stranger).json()["replies"] == anonymous["replies"]

    created = post(client)
    guest = created.json()["guest_token"]
    mine = get(client, guest=guest).json()["replies"]
    assert [(reply["own"], reply["can_change"]) for reply in mine] == [(False, False), (True, True)]
    assert [reply["own"] for reply in get(client, guest=stranger).json()["replies"]] == [False, False]
    assert [reply["own"] for reply in get(Client()).json()["replies"]] == [False, False]


def django_assert_queries_fewer_than(client, limit: int):
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    @contextmanager
    def check():
        with CaptureQueriesContext(connection) as queries:
            yield
        assert len(queries) < limit, [query["sql"] for query in queries]

    return check()


def test_thread_json_is_written_exactly_as_the_schema_says(client, thread, rules):
    """The thread answer is encoded without the schema's validation; it must still be valid
    against it, field for field and in order."""
    from speakout.discussion.api_schemas import ThreadOut

    parent = add_reply(thread, "First.")
    add_reply(thread, "Second.", parent=parent)
    response = get(client)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    assert list(data) == list(ThreadOut.model_fields)
    assert (
        ThreadOut.model_validate(data).model_dump(mode="json")["replies"][0]["children"][0]["id"]
        == (data["replies"][0]["children"][0]["id"])
    )
    assert list(data["replies"][0]) == [
        "id", "parent", "author_name", "author_website", "avatar_url", "body_html", "created_at",
        "edited_at", "status", "own", "can_change", "in_reply_to", "children",
    ]  # fmt: skip


def test_reply_answers_are_written_exactly_as_ninja_writes_the_schema(client, thread, rules):
    """A post's answer is encoded without the schema's validation; it must be, byte for byte, what
    django-ninja writes for the same answer validated against SubmissionOut: published with a new
    token, held, and a retry that gets no token."""
    from speakout.discussion.api import api
    from speakout.discussion.api_schemas import SubmissionOut

    published = post(client, submission_id="once")
    retried = post(client, submission_id="once")
    rules.hold_first_reply = True
    rules.save()
    cache.clear()  # the rate limits
    held = post(client, name="Bo", email="bo@example.org", body="Held *here*")
    assert [published.status_code, retried.status_code, held.status_code] == [201, 200, 201]
    assert [held.json()["outcome"], retried.json()["guest_token"]] == ["held", None]
    for response in (published, retried, held):
        assert response["Content-Type"] == "application/json; charset=utf-8"
        validated = SubmissionOut.model_validate(response.json()).model_dump()
        assert api.renderer.render(None, validated, response_status=response.status_code).encode() == response.content


def test_api_ignores_the_guest_cookie(client, thread):
    """Identity comes from the header only: the HTML form's cookie opens nothing here."""
    guest = post(client).json()["guest_token"]
    client.cookies[GUEST_COOKIE] = guest
    assert get(client).json()["replies"] == []
    reply = Reply.objects.get()
    assert client.delete(f"/api/replies/{reply.pk}").status_code == 404


def test_thread_responses_are_kept_by_no_shared_cache(client, thread):
    """Every answer carries a fresh form token (and a guest's, their own held replies): no cache
    stores it, neither Speakout's nor a browser's or a CDN's."""
    response = get(client)
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "X-Speakout-Cache" not in response
    assert "X-Speakout-Guest" in response["Vary"]
    guest = post(client).json()["guest_token"]
    response = client.get(f"/api/threads/{thread.key}", headers={"X-Speakout-Guest": guest})
    assert "no-store" in response["Cache-Control"]
    assert "X-Speakout-Guest" in response["Vary"]


def test_edit_within_the_window(client, thread, rules):
    created = post(client)
    guest, reply_id = created.json()["guest_token"], created.json()["reply"]["id"]
    response = edit(client, reply_id, "Better **words**", guest=guest)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["outcome"] == "published"
    assert data["reply"]["body_html"].strip() == "<p>Better <strong>words</strong></p>"
    assert data["reply"]["edited_at"] is not None
    assert Reply.objects.get().body == "Better **words**"


def test_edit_with_a_bad_body(client, thread, rules):
    created = post(client)
    guest, reply_id = created.json()["guest_token"], created.json()["reply"]["id"]
    for body in ("", "bell \u0007 ring"):
        response = edit(client, reply_id, body, guest=guest)
        assert_error(response, 400, "invalid", "body")
    assert Reply.objects.get().body == "Hello *there*"


def test_edit_and_delete_refused_to_others(client, thread, rules):
    """Someone else (no header, or another guest) gets 403 on a published reply."""
    reply_id = post(client).json()["reply"]["id"]
    other = {"X-Speakout-Guest": sign_guest_token("someone-else")}
    for headers in ({}, other):
        response = edit(client, reply_id, "Hijacked", headers=headers)
        assert_error(response, 403, "forbidden")
        assert_error(client.delete(f"/api/replies/{reply_id}", headers=headers), 403, "forbidden")
    assert Reply.objects.get().status == Reply.Status.APPROVED


def test_edit_and_delete_refused_after_the_window(client, thread, rules):
    """Once the edit window has passed, the author too gets 403 with the error object."""
    created = post(client)
    guest, reply_id = created.json()["guest_token"], created.json()["reply"]["id"]
    minutes = rules.edit_window_minutes + 1
    Reply.objects.filter(pk=reply_id).update(created_at=timezone.now() - timedelta(minutes=minutes))
    headers = {"X-Speakout-Guest": guest}
    (listed,) = get(client, guest=guest).json()["replies"]
    assert listed["own"] is True and listed["can_change"] is False
    response = edit(client, reply_id, "Too late", headers=headers)
    assert_error(response, 403, "forbidden")
    assert_error(client.delete(f"/api/replies/{reply_id}", headers=headers), 403, "forbidden")
    reply = Reply.objects.get()
    assert reply.body == "Hello *there*" and reply.status == Reply.Status.APPROVED


def test_delete_within_the_window(client, thread, rules):
    created = post(client)
    guest, reply_id = created.json()["guest_token"], created.json()["reply"]["id"]
    response = client.delete(f"/api/replies/{reply_id}", headers={"X-Speakout-Guest": guest})
    assert response.status_code == 200
    assert response.json() == {"outcome": "deleted", "id": reply_id}
    assert Reply.objects.get().status == Reply.Status.TRASH
    assert get(client, guest=guest).json()["replies"] == []
    assert get(client).json()["thread"]["count"] == 0
    # Gone for its author too.
    again = client.delete(f"/api/replies/{reply_id}", headers={"X-Speakout-Guest": guest})
    assert_error(again, 404, "not_found")


def test_own_held_reply_can_be_deleted(client, thread):
    created = post(client)
    guest, reply_id = created.json()["guest_token"], created.json()["reply"]["id"]
    assert_error(client.delete(f"/api/replies/{reply_id}"), 404, "not_found")
    response = client.delete(f"/api/replies/{reply_id}", headers={"X-Speakout-Guest": guest})
    assert response.status_code == 200
    assert Reply.objects.get().status == Reply.Status.TRASH


def test_edit_unknown_reply_is_404(client, thread):
    response = client.patch("/api/replies/999999", json.dumps({"body": "x"}), content_type="application/json")
    assert_error(response, 404, "not_found")
    assert_error(client.delete(f"/api/replies/{2**70}"), 404, "not_found")


# Reports --------------------------------------------------------------------------------------


def test_report_a_reply(client, thread):
    reply = add_reply(thread, "rude words")
    response = client.post(
        f"/api/replies/{reply.pk}/reports",
        json.dumps({"reason": "harassment", "note": "Please look"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"outcome": "reported", "id": reply.pk}
    flag = Flag.objects.get()
    assert (flag.reply, flag.reason, flag.note) == (reply, "harassment", "Please look")
    assert flag.client_hash


def test_report_needs_a_known_reason(client, thread):
    reply = add_reply(thread, "rude words")
    for body in ({"reason": "boring"}, {}):
        response = client.post(f"/api/replies/{reply.pk}/reports", json.dumps(body), content_type="application/json")
        assert_error(response, 400, "invalid", "reason")
    assert not Flag.objects.exists()


def test_reports_past_the_hourly_limit_are_429(client, thread, settings):
    settings.SPEAKOUT_DISCUSSION_REPORTS_PER_HOUR = 1
    first, second = add_reply(thread, "one"), add_reply(thread, "two")

    def report(reply):
        body = json.dumps({"reason": "spam"})
        return client.post(f"/api/replies/{reply.pk}/reports", body, content_type="application/json")

    assert report(first).status_code == 201
    assert report(first).status_code == 201  # the same report again: still one
    assert_error(report(second), 429, "rate_limit")
    assert list(Flag.objects.values_list("reply", flat=True)) == [first.pk]


def test_report_of_a_reply_not_shown_is_404(client, thread):
    held = add_reply(thread, "waiting", status=Reply.Status.PENDING)
    response = client.post(
        f"/api/replies/{held.pk}/reports",
        json.dumps({"reason": "spam"}),
        content_type="application/json",
    )
    assert_error(response, 404, "not_found")


# Counts ---------------------------------------------------------------------------------------


def test_counts_of_many_threads_in_one_query(client, django_assert_num_queries):
    """Public threads give their approved count; private, hidden and unknown ones give 0."""
    a = services.get_or_create_thread("a")
    add_reply(a, "one", name="Al")
    add_reply(a, "two", name="Bo")
    add_reply(a, "held", name="Cy", status=Reply.Status.PENDING)
    services.get_or_create_thread("b")
    private = services.get_or_create_thread("p", is_public=False)
    add_reply(private, "secret")
    hidden = services.get_or_create_thread("h")
    add_reply(hidden, "hidden")
    Thread.objects.filter(pk=hidden.pk).update(status=Thread.Status.HIDDEN)
    with django_assert_num_queries(1):
        response = client.get("/api/counts?key=a&key=b&key=p&key=h&key=zz&key=a")
    assert response.status_code == 200
    assert response.json() == {"a": 2, "b": 0, "p": 0, "h": 0, "zz": 0}
    assert client.get("/api/counts").json() == {}


def test_counts_refuses_too_many_keys(client):
    query = "&".join(f"key=k{n}" for n in range(101))
    assert_error(client.get(f"/api/counts?{query}"), 400, "too_many_keys", "key")


# Not found ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["unknown", "private", "hidden"])
def test_threads_not_in_public_are_404(client, kind):
    """Private and hidden threads answer exactly as a thread that does not exist."""
    if kind != "unknown":
        thread = services.get_or_create_thread("key", is_public=kind != "private")
        reply = add_reply(thread, "text")
        if kind == "hidden":
            Thread.objects.filter(pk=thread.pk).update(status=Thread.Status.HIDDEN)
        report = client.post(
            f"/api/replies/{reply.pk}/reports",
            json.dumps({"reason": "spam"}),
            content_type="application/json",
        )
        assert_error(report, 404, "not_found")
    expected = client.get("/api/threads/never-was").json()
    for response in (get(client), post(client)):
        assert response.status_code == 404
        assert response.json() == expected
    assert expected == {
        "outcome": "rejected",
        "code": "not_found",
        "errors": {"__all__": ["Not found."]},
    }
    assert not Reply.objects.filter(author_name="Ana").exists()


# Documentation --------------------------------------------------------------------------------


def test_openapi_schema_lists_the_paths(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/threads/{key}",
        "/api/threads/{key}/replies",
        "/api/replies/{reply_id}",
        "/api/replies/{reply_id}/reports",
        "/api/counts",
    } <= set(schema["paths"])
    reply_schema = schema["components"]["schemas"]["ReplyOut"]
    assert set(reply_schema["properties"]) == REPLY_FIELDS
    assert "email" not in json.dumps(schema["components"]["schemas"]["SubmissionOut"])


def test_docs_page(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    # The docs page loads its assets from this site, never from a CDN.
    html = response.content.decode()
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []
    assert "'self'" in response["Content-Security-Policy"] and "cdn" not in response["Content-Security-Policy"]


def test_a_guest_keeps_their_replies_across_a_secret_key_rotation(client, thread, settings):
    """After the secret key is rotated with the old one kept in SECRET_KEY_FALLBACKS, a guest's
    held reply is still shown to them, and still theirs to edit; with the old key dropped, it is
    no longer tied to them."""
    created = post(client).json()  # a first reply: held for a moderator
    assert created["outcome"] == "held"
    guest, reply_id = created["guest_token"], created["reply"]["id"]
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "rotated-" + old_key[::-1], [old_key]

    listed = get(client, guest=guest).json()["replies"]
    assert [(reply["id"], reply["status"], reply["own"]) for reply in listed] == [(reply_id, "held", True)]
    edited = edit(client, reply_id, "Changed after the rotation", guest=guest)
    assert edited.status_code == 200, edited.content
    assert Reply.objects.get(pk=reply_id).body == "Changed after the rotation"

    settings.SECRET_KEY_FALLBACKS = []
    assert get(client, guest=guest).json()["replies"] == []


@pytest.fixture
def federate_wishes():
    """What ``reply_posted`` carries as ``federate``, reply by reply."""
    from speakout.discussion.signals import reply_posted

    wishes: list[bool] = []

    def listen(sender, reply, federate=None, **kwargs):
        wishes.append(federate)

    reply_posted.connect(listen, sender=Reply, dispatch_uid="test-federate-wishes")
    yield wishes
    reply_posted.disconnect(sender=Reply, dispatch_uid="test-federate-wishes")


def test_the_federate_box_reaches_reply_posted_as_the_form_s_does(client, thread, rules, federate_wishes):
    """The API takes the form's "also post this reply to the Fediverse" box: ticked, left out or
    unticked, ``reply_posted`` gets what the HTML form's would (the federation app then decides
    whether this writer may)."""
    from tests.discussion.helpers import form_data

    for ticked in (True, False):
        cache.clear()  # past the rate limit
        extra = {"federate": "on"} if ticked else {}
        form = form_data(thread, body=f"Through the form, {ticked}.", **extra)
        assert Client().post("/discussion/post/", form).status_code == 303
        cache.clear()
        response = post(client, body=f"Through the API, {ticked}.", email=f"{ticked}@example.org", federate=ticked)
        assert response.status_code == 201
    cache.clear()
    assert post(client, email="left-out@example.org").status_code == 201
    assert federate_wishes == [True, True, False, False, False]

    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["ReplyIn"]["properties"]
    assert "Fediverse" in schema["federate"]["description"]
