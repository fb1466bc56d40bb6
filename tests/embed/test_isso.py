"""Isso's HTTP API over Speakout: the fields and status codes Isso's server gives, on
Speakout's data and pipeline."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from speakout.discussion.models import Reply, Thread
from tests.embed.helpers import OTHER, SITE

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "parent",
    "text",
    "author",
    "website",
    "mode",
    "created",
    "modified",
    "likes",
    "dislikes",
    "hash",
    "notification",
}


def new(client, uri="/post/", **fields):
    data = {
        "text": "Hello from *Isso*.",
        "author": "Ines",
        "email": "ines@example.org",
        "website": None,
        "parent": None,
    }
    data.update(fields)
    return client.post(f"/isso/new?uri={uri}", json.dumps(data), content_type="application/json")


def test_new_list_edit_delete_with_the_edit_cookie(client, rules, allowed_site):
    created = new(client, title="My post")
    assert created.status_code == 201, created.content
    comment = created.json()
    assert set(comment) == FIELDS
    assert comment["mode"] == 1 and comment["text"] == "<p>Hello from <em>Isso</em>.</p>"
    assert created["X-Set-Cookie"].startswith(f"isso-{comment['id']}=")
    assert "SameSite=Lax" in created["X-Set-Cookie"]
    assert str(comment["id"]) in client.cookies
    thread = Thread.objects.get(key="/post/")
    assert thread.url == thread.title == f"{SITE}/post/"

    listing = client.get("/isso/?uri=/post/").json()
    assert listing["total_replies"] == 1 and listing["id"] is None
    assert listing["replies"][0]["id"] == comment["id"]
    assert listing["replies"][0]["replies"] == [] and listing["replies"][0]["total_replies"] == 0

    plain = client.get(f"/isso/id/{comment['id']}?plain=1").json()
    assert plain["text"] == "Hello from *Isso*."
    edited = client.put(f"/isso/id/{comment['id']}", json.dumps({"text": "Changed."}), content_type="application/json")
    assert edited.status_code == 200 and edited.json()["text"] == "<p>Changed.</p>"
    assert edited.json()["modified"] is not None

    stranger = Client(HTTP_ORIGIN=SITE)
    refused = stranger.delete(f"/isso/id/{comment['id']}", content_type="application/json")
    assert refused.status_code == 403
    deleted = client.delete(f"/isso/id/{comment['id']}", content_type="application/json")
    assert deleted.status_code == 200 and deleted.json() is None
    assert Reply.objects.get().status == Reply.Status.TRASH
    assert client.get("/isso/?uri=/post/").json()["total_replies"] == 0


def test_held_replies_answer_202_and_show_to_their_author_only(client, rules, allowed_site):
    rules.hold_first_reply = True
    rules.save()
    created = new(client)
    assert created.status_code == 202 and created.json()["mode"] == 2
    assert client.get("/isso/?uri=/post/").json()["replies"][0]["mode"] == 2
    assert Client(HTTP_ORIGIN=SITE).get("/isso/?uri=/post/").json()["replies"] == []


def test_replies_nest_two_levels_as_in_isso(client, rules, allowed_site):
    first = new(client).json()
    second = new(
        Client(HTTP_ORIGIN=SITE, REMOTE_ADDR="10.1.0.1"), text="An answer.", email="b@example.org", parent=first["id"]
    ).json()
    third = new(
        Client(HTTP_ORIGIN=SITE, REMOTE_ADDR="10.2.0.1"),
        text="A deeper answer.",
        email="c@example.org",
        parent=second["id"],
    ).json()
    listing = client.get("/isso/?uri=/post/").json()
    assert listing["total_replies"] == 3
    top = listing["replies"][0]
    assert [r["id"] for r in top["replies"]] == [second["id"], third["id"]]
    assert {r["parent"] for r in top["replies"]} == {first["id"]}
    limited = client.get("/isso/?uri=/post/&nested_limit=1").json()["replies"][0]
    assert len(limited["replies"]) == 1 and limited["hidden_replies"] == 1
    more = client.get(f"/isso/?uri=/post/&parent={first['id']}&offset=1").json()
    assert [r["id"] for r in more["replies"]] == [third["id"]]


def test_errors_use_isso_status_codes(client, rules, allowed_site):
    assert new(client, text="hi").status_code == 400  # too short, as Isso says
    assert new(client, parent="x").status_code == 400
    assert (
        client.post("/isso/new?uri=/p/", "text=x", content_type="application/x-www-form-urlencoded").status_code == 403
    )
    assert client.get("/isso/?uri=/p/&limit=x").status_code == 400
    assert client.get("/isso/").status_code == 400
    assert new(client, uri="https://evil.example/").status_code == 400
    assert client.get("/isso/id/999999").status_code == 404
    assert new(client, author="", email="").status_code == 400  # name and email required by the rules
    assert not Thread.objects.filter(replies__isnull=False).exists()


def test_a_disallowed_origin_cannot_start_or_post(rules, allowed_site):
    assert new(Client(HTTP_ORIGIN=OTHER)).status_code == 403
    assert new(Client()).status_code == 403, "no thread is started without an allowed origin"
    assert not Reply.objects.exists()


def test_credentials_are_allowed_for_isso_s_client_only(client, allowed_site):
    isso = client.options("/isso/new?uri=/p/", headers={"Access-Control-Request-Method": "POST"})
    assert isso["Access-Control-Allow-Credentials"] == "true"
    assert "X-Set-Cookie" in client.get("/isso/config")["Access-Control-Expose-Headers"]


def test_count_config_preview_and_votes(client, rules, allowed_site):
    comment = new(client).json()
    counts = client.post("/isso/count", json.dumps(["/post/", "/none/"]), content_type="application/json")
    assert counts.json() == [1, 0]
    assert client.post("/isso/count", json.dumps({"a": 1}), content_type="application/json").status_code == 400
    config = client.get("/isso/config").json()["config"]
    assert config["require-email"] is True and config["reply-to-self"] is False
    preview = client.post("/isso/preview", json.dumps({"text": "**b**"}), content_type="application/json")
    assert preview.json() == {"text": "<p><strong>b</strong></p>"}
    like = client.post(f"/isso/id/{comment['id']}/like", content_type="application/json")
    assert like.json() == {"likes": 0, "dislikes": 0}


@pytest.mark.parametrize("hide", ["private", "hidden"])
def test_votes_answer_for_a_reply_in_a_non_public_thread_as_for_a_missing_one(client, rules, allowed_site, hide):
    """A vote must not tell whether a reply id exists in a private or hidden thread."""
    comment = new(client).json()
    thread = Thread.objects.get(replies__pk=comment["id"])
    if hide == "private":
        Thread.objects.filter(pk=thread.pk).update(is_public=False)
    else:
        Thread.objects.filter(pk=thread.pk).update(status=Thread.Status.HIDDEN)
    missing = client.post("/isso/id/999999/like", content_type="application/json")
    for verb in ("like", "dislike"):
        answer = client.post(f"/isso/id/{comment['id']}/{verb}", content_type="application/json")
        assert (answer.status_code, answer.content) == (missing.status_code, missing.content)


def test_isso_s_credentials_reach_isso_s_own_routes_only(allowed_site, site_builder):
    """Credentials are allowed for Isso's client because its routes keep their edit rights in a
    cookie. Another page whose address starts with the same prefix (a section of the site named
    like it) is not Isso's: an allowed site must not read it with the reader's cookies."""
    from django.contrib.auth import get_user_model
    from wagtail.models import PageViewRestriction

    from speakout.publishing.models import ReportIndexPage

    section = site_builder.home.add_child(instance=ReportIndexPage(title="Isso notes", slug="isso"))
    members = section.add_child(instance=ReportIndexPage(title="Members only", slug="members"))
    PageViewRestriction.objects.create(page=members, restriction_type=PageViewRestriction.LOGIN)
    reader = Client(HTTP_ORIGIN=SITE)
    reader.force_login(get_user_model().objects.create_user("member", "member@example.org", "x" * 20))
    page = reader.get("/isso/members/")
    assert page.status_code == 200 and "Members only" in page.content.decode()
    assert "Access-Control-Allow-Origin" not in page and "Access-Control-Allow-Credentials" not in page
    preflight = reader.options("/isso/members/", headers={"Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Credentials" not in preflight
    assert reader.get("/isso/config")["Access-Control-Allow-Credentials"] == "true"
