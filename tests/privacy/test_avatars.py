"""Avatars are drawn by the site itself from a keyed hash: on the page, in the API and nowhere
else is there a third-party address, and the key says nothing about the email."""

import hashlib
import re

import pytest

from speakout.discussion.avatars import avatar_key, render_svg
from speakout.discussion.models import Reply
from speakout.publishing.discussion import thread_for_report

pytestmark = pytest.mark.django_db

IMG = re.compile(r'<img class="reply__avatar" src="(/discussion/avatar/([0-9a-f]{16})\.svg)" alt="" loading="lazy">')


@pytest.fixture
def report_with_replies(site_builder, rules, reply_as):
    report = site_builder.report("Avatars report")
    thread = thread_for_report(report)
    first = reply_as(thread, email="ana@example.org", body="First words.")
    second = reply_as(thread, email="ana@example.org", body="Second words.")
    third = reply_as(thread, email="bo@example.org", body="Other words.")
    return report, thread, (first, second, third)


def test_page_shows_a_local_lazy_avatar_per_reply(client, report_with_replies):
    report, _thread, replies = report_with_replies
    html = client.get(report.url).content.decode()
    found = IMG.findall(html)
    assert [key for _url, key in found] == [reply.avatar_key for reply in replies]
    assert found[0][1] == found[1][1] != found[2][1]  # one person, one avatar
    assert "gravatar" not in html.lower()
    for src in re.findall(r'<img[^>]+src="([^"]+)"', html):
        assert src.startswith("/"), src  # every picture comes from this site


def test_api_gives_the_avatar_as_a_url_on_this_site(client, settings, report_with_replies):
    _report, thread, replies = report_with_replies
    data = client.get(f"/api/threads/{thread.key}").json()
    urls = [item["avatar_url"] for item in data["replies"]]
    assert urls == [f"{settings.BASE_URL}/discussion/avatar/{reply.avatar_key}.svg" for reply in replies]
    assert all(url.startswith(settings.BASE_URL) for url in urls)


def test_avatar_view_is_an_svg_cached_for_good(client, report_with_replies):
    _report, _thread, (first, *_rest) = report_with_replies
    response = client.get(f"/discussion/avatar/{first.avatar_key}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    body = response.content.decode()
    assert body == render_svg(first.avatar_key)
    assert body.startswith("<svg") and "<script" not in body and "style=" not in body
    assert re.findall(r"https?://[^\"]+", body) == ["http://www.w3.org/2000/svg"]  # the namespace, not a request
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("key", ["abc", "0123456789ABCDEF", "0123456789abcdeg", "../../etc/passwd"])
def test_avatar_view_refuses_other_keys(client, key):
    assert client.get(f"/discussion/avatar/{key}.svg").status_code == 404


def test_avatar_view_does_not_change_state(client, report_with_replies):
    assert client.post("/discussion/avatar/0123456789abcdef.svg").status_code == 405


def test_key_is_keyed_not_a_plain_hash_of_the_email(settings, report_with_replies):
    _report, _thread, (first, *_rest) = report_with_replies
    email = "ana@example.org"
    plain = {hashlib.md5(email.encode()).hexdigest(), hashlib.sha256(email.encode()).hexdigest()}
    assert not any(digest.startswith(first.avatar_key) for digest in plain)
    # Drawn from the commenter record the writer proved (their guest token), never from the
    # address: typing it elsewhere must not give the same picture.
    assert first.avatar_key == avatar_key(f"commenter:{first.commenter_id}")
    assert first.avatar_key != avatar_key(f"email:{email}")
    settings.SECRET_KEY = "another secret"
    assert avatar_key(f"commenter:{first.commenter_id}") != first.avatar_key  # without the secret, no way


def test_different_keys_draw_different_pictures():
    pictures = {render_svg(avatar_key(f"email:person{n}@example.org")) for n in range(50)}
    assert len(pictures) == 50


def test_replies_without_a_key_get_the_plain_avatar(client, report_with_replies):
    report, _thread, (first, *_rest) = report_with_replies
    Reply.objects.filter(pk=first.pk).update(avatar_key="")
    first.thread.bump_version()
    html = client.get(report.url).content.decode()
    assert "/discussion/avatar/0000000000000000.svg" in html


def test_a_reply_stored_directly_gets_its_authors_avatar(thread):
    from speakout.discussion.models import Commenter

    commenter = Commenter.objects.create(email="imported@example.org", display_name="Imported")
    reply = Reply.objects.create(thread=thread, commenter=commenter, author_name="Imported", body="x", body_html="x")
    assert reply.avatar_key == avatar_key(f"commenter:{commenter.pk}")
    assert reply.avatar_key != avatar_key("email:imported@example.org")
    anonymous = Reply.objects.create(thread=thread, author_name="Imported", body="y", body_html="y")
    assert anonymous.avatar_key not in (reply.avatar_key, avatar_key("name:Imported"))


def test_upgrading_draws_stored_avatars_again_from_proof_not_from_addresses(thread):
    """Replies stored before avatars followed proof carry keys made from their typed address;
    the migration draws them again from the commenter record, account or guest token."""
    from importlib import import_module

    from django.apps import apps

    from speakout.discussion.avatars import DEFAULT_KEY
    from speakout.discussion.models import Commenter

    commenter = Commenter.objects.create(email="old@example.org", display_name="Old")
    old = Reply.objects.create(
        thread=thread, commenter=commenter, author_name="Old", body="x", avatar_key=avatar_key("email:old@example.org")
    )
    bulk = Reply.objects.create(thread=thread, author_name="Bulk", body="y", avatar_key=DEFAULT_KEY)
    migration = import_module("speakout.discussion.migrations.0009_avatars_follow_proof")
    migration.avatars_follow_proof(apps, None)
    old.refresh_from_db()
    bulk.refresh_from_db()
    assert old.avatar_key == avatar_key(f"commenter:{commenter.pk}")
    assert bulk.avatar_key == DEFAULT_KEY
