"""Pages kept for signed-in readers (and the thread JSON for guests) by speakout/pagecache/reader.py:
served from one copy per kind of reader with each reader's own name and tokens filled in, never
stale, and never to a reader whose page has something of their own (their replies)."""

# ruff: noqa: F811  (the report fixture comes from test_page_cache)
from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from speakout.discussion import services
from speakout.discussion.clients import sign_guest_token
from speakout.discussion.models import DiscussionSettings
from speakout.pagecache import reader
from speakout.pagecache.capture import Capture
from speakout.pagecache.middleware import STATUS_HEADER
from tests.pagecache.test_page_cache import (  # noqa: F401  (report is a fixture)
    FORM_TOKEN,
    SUBMISSION,
    TOKEN,
    page,
    published_reply,
    report,
    text,
    thread_of,
    without_per_reader_values,
)


@pytest.fixture(autouse=True)
def _forget_kept_pages():
    reader.forget_all()
    yield
    reader.forget_all()


def signed_in(username: str, first_name: str = "", **client_options) -> Client:
    client = Client(**client_options)
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw", first_name=first_name)
    client.force_login(user)
    return client


def rendered(client, url: str) -> tuple[str, bool]:
    """The page's text, and whether it was rendered (Wagtail looked the page up) or kept."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), any('"wagtailcore_page"' in query["sql"] for query in queries)


def test_signed_in_readers_share_one_copy_with_their_own_name_and_tokens(report):
    ada = signed_in("ada", "Ada", enforce_csrf_checks=True)
    bo = signed_in("bo", "Bo <b>", enforce_csrf_checks=True)
    first, was_rendered = rendered(ada, report.url)
    assert was_rendered and "You are commenting as <strong>Ada</strong>" in first
    again, was_rendered = rendered(ada, report.url)
    assert not was_rendered and again.count("commenting as") == 1
    theirs = bo.get(report.url)
    assert STATUS_HEADER not in theirs
    shown = text(theirs)
    # Bo's name, escaped; nothing of Ada's: not her name, not her tokens.
    assert "You are commenting as <strong>Bo &lt;b&gt;</strong>" in shown and "Ada" not in shown
    assert not TOKEN.findall(shown) and not TOKEN.findall(again)  # no CSRF token is needed
    assert set(FORM_TOKEN.findall(shown)).isdisjoint(FORM_TOKEN.findall(again))
    assert set(SUBMISSION.findall(shown)).isdisjoint(SUBMISSION.findall(again))
    # Apart from those, the kept copy is the page as rendered.
    assert without_per_reader_values(again) == without_per_reader_values(first)
    # Bo's tokens are good: the reply goes through the cross-origin check and the time trap.
    sent = bo.post(
        "/discussion/post/",
        {"thread": report.thread_key, "body": "Bo writes.", "form_token": FORM_TOKEN.findall(shown)[0]},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert sent.status_code == 303, sent.content[:500]


def test_kept_page_is_the_page_rendered_for_that_reader(report, settings):
    published_reply(report, "Rendered or kept, the same words.")
    ada = signed_in("ada", "Ada")
    kept, _ = rendered(signed_in("cy", "Ada"), report.url)
    kept, was_rendered = rendered(ada, report.url)
    assert not was_rendered
    settings.SPEAKOUT_PAGE_CACHE_ENABLED = False
    fresh, was_rendered = rendered(ada, report.url)
    assert was_rendered
    assert without_per_reader_values(kept) == without_per_reader_values(fresh)


def test_a_new_reply_and_a_report_edit_show_on_the_next_request(report):
    ada = signed_in("ada", "Ada")
    rendered(ada, report.url)
    assert not rendered(ada, report.url)[1]
    published_reply(report, "Fresh news.")
    shown, was_rendered = rendered(ada, report.url)
    assert was_rendered and "Fresh news." in shown
    report.title = "Rents in the old town, updated"
    report.save_revision().publish()
    shown, was_rendered = rendered(ada, report.url)
    assert was_rendered and "Rents in the old town, updated" in shown


def test_a_reader_with_a_held_reply_gets_their_own_page_and_nobody_else_sees_it(report):
    rules = DiscussionSettings.load()
    rules.hold_first_reply = True
    rules.save()
    ada, bo = signed_in("ada", "Ada"), signed_in("bo", "Bo")
    shown = text(page(ada, report))
    sent = ada.post(
        "/discussion/post/",
        {"thread": report.thread_key, "body": "Wait for me.", "form_token": FORM_TOKEN.findall(shown)[0]},
    )
    assert sent.status_code == 303
    rendered(bo, report.url)  # Bo fills the kept copy (a held reply bumps no version)
    assert not rendered(bo, report.url)[1]
    mine, was_rendered = rendered(ada, report.url)
    assert was_rendered and "Wait for me." in mine and "Awaiting moderation." in mine
    theirs, _ = rendered(bo, report.url)
    assert "Wait for me." not in theirs
    assert "Wait for me." not in text(page(Client(), report))


def test_a_reader_who_posts_stops_getting_the_kept_copy(report):
    ada = signed_in("ada", "Ada")
    rendered(ada, report.url)
    user = get_user_model().objects.get(username="ada")
    rules = DiscussionSettings.load()
    rules.hold_first_reply = True
    rules.save()  # bumps the settings version: the next request renders again
    rendered(ada, report.url)
    kept, was_rendered = rendered(ada, report.url)
    assert not was_rendered
    result = services.submit_reply(
        thread=thread_of(report),
        data={"thread": report.thread_key, "body": "Held, and mine.", "form_token": FORM_TOKEN.findall(kept)[0]},
        author=services.Author(user=user, client_hash="tests"),
    )
    assert result.reply is not None and result.reply.status != "approved"
    mine, was_rendered = rendered(ada, report.url)
    assert was_rendered and "Held, and mine." in mine


def test_a_template_reading_the_account_is_never_kept(report, settings, tmp_path):
    (tmp_path / "identity.html").write_text('{% if part == "notice" %}<p>Mail: {{ request.user.email }}</p>{% endif %}')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    settings.SPEAKOUT_DISCUSSION_IDENTITY_TEMPLATE = "identity.html"
    ada, bo = signed_in("ada"), signed_in("bo")
    assert "Mail: ada@example.org" in rendered(ada, report.url)[0]
    shown, was_rendered = rendered(bo, report.url)
    assert was_rendered and "Mail: bo@example.org" in shown and "ada@" not in shown


def test_watched_user_marks_the_rendering_private_on_anything_personal():
    capture = Capture.__new__(Capture)
    capture.private = False
    user = get_user_model()(pk=7, username="ada", email="ada@example.org")
    watched = reader._WatchedUser(user, capture)
    assert watched.is_authenticated and watched.pk == 7
    assert isinstance(watched, get_user_model())
    assert not capture.private
    assert watched.get_username() == "ada"
    assert capture.private


def test_visitors_and_signed_in_readers_have_separate_copies(report):
    ada = signed_in("ada", "Ada")
    rendered(ada, report.url)
    visitor = Client()
    visitor.cookies["sessionid"] = "not-a-session"
    shown, _ = rendered(visitor, report.url)
    assert "You are commenting as" not in shown and "Fill in your details below" in shown
    assert "You are commenting as" in rendered(ada, report.url)[0]


def test_guest_json_is_kept_for_guests_without_a_reply_of_their_own(report):
    published_reply(report, "Public words.")
    reply = published_reply(report, "A guest's own words.", guest_token="guest-one")
    url = f"/api/threads/{report.thread_key}"
    stranger = {"X-Speakout-Guest": sign_guest_token("guest-two")}
    owner = {"X-Speakout-Guest": sign_guest_token("guest-one")}
    client = Client()
    answers = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers=stranger)
        answers.append((json.loads(response.content), len(queries), response))
    (first, first_queries, _), (second, second_queries, response) = answers
    assert second_queries < first_queries
    assert first["form_token"] != second["form_token"]
    assert {**first, "form_token": ""} == {**second, "form_token": ""}
    assert "no-store" in response["Cache-Control"] and "Cookie" not in response.get("Vary", "")
    mine = json.loads(client.get(url, headers=owner).content)
    own = [item for item in mine["replies"] if item["id"] == reply.pk]
    assert own and own[0].get("can_change") is True
    theirs = [item for item in second["replies"] if item["id"] == reply.pk]
    assert theirs and not theirs[0].get("can_change")


def test_guest_json_shows_a_held_reply_to_its_author_on_the_next_request(report):
    rules = DiscussionSettings.load()
    rules.hold_first_reply = True
    rules.save()
    url = f"/api/threads/{report.thread_key}"
    client = Client()
    guest = {"X-Speakout-Guest": sign_guest_token("guest-one")}
    client.get(url, headers=guest)
    token = json.loads(client.get(url, headers=guest).content)["form_token"]
    sent = client.post(
        url + "/replies",
        {"name": "Ada", "email": "ada@example.org", "body": "Held for now.", "form_token": token},
        content_type="application/json",
        headers=guest,
    )
    assert sent.status_code in (200, 201), sent.content[:300]
    mine = client.get(url, headers=guest).content.decode()
    assert "Held for now." in mine
    other = client.get(url, headers={"X-Speakout-Guest": sign_guest_token("guest-two")}).content.decode()
    assert "Held for now." not in other
    assert re.search(r"Held for now", client.get(url).content.decode()) is None
