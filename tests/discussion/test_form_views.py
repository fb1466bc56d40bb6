"""The HTML form: every outcome, field-specific errors with the typed text kept, never a 500."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from speakout.discussion.app_settings import GUEST_COOKIE_NAME as GUEST_COOKIE
from speakout.discussion.models import Flag, Reply, Thread
from tests.discussion.helpers import add_reply, form_data

pytestmark = pytest.mark.django_db


def test_published_reply_redirects_to_its_anchor_and_sets_the_guest_cookie(client, thread, rules):
    response = client.post("/discussion/post/", form_data(thread))
    reply = Reply.objects.get()

    assert response.status_code == 303
    assert response["Location"] == f"http://testserver/reports/test/#reply-{reply.pk}"
    assert GUEST_COOKIE in response.cookies and response.cookies[GUEST_COOKIE]["httponly"]
    assert reply.status == Reply.Status.APPROVED and reply.body_html == "<p>A thoughtful reply.</p>"
    assert reply.commenter.email == "robin@example.org"
    thread.refresh_from_db()
    assert thread.approved_count == 1


def test_json_post_returns_the_rendered_reply(client, thread, rules):
    response = client.post("/discussion/post/", form_data(thread), HTTP_ACCEPT="application/json")
    data = response.json()

    assert response.status_code == 201
    assert data["outcome"] == "published" and 'id="reply-' in data["html"] and data["form_token"]


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("body", "   ", "Write something"),
        ("name", "", "Please give a name"),
        ("email", "", "Please give an email"),
        ("email", "not-an-email", "valid email"),
        ("email", "a@example.org\r\nBcc: victim@example.org", "valid email"),
        ("website", "javascript:alert(1)", "http:// or https://"),
        ("website", "http://user:pw@example.org/", "user name or password"),
        ("website", "http://127.0.0.1/admin", "public address"),
        ("website", "http://10.1.2.3/", "public address"),
        ("website", "http://localhost:8000/", "public address"),
        ("name", "Ro\u202ebin", "invisible or control"),
        ("name", "Ro\u200bbin", "invisible or control"),
        ("name", "Ro\nbin", "invisible or control"),
        ("name", "x" * 101, "at most 100"),
        ("body", "x" * 65536, "at most 65535"),
        ("body", "nul\x00byte", "Null characters are not allowed"),
        ("body", "bell\x07", "control characters"),
    ],
)
def test_each_bad_field_gets_its_own_message_and_the_text_is_kept(client, thread, rules, field, value, message):
    data = form_data(thread, **{"body": "My carefully written reply.", field: value})
    response = client.post("/discussion/post/", data)
    html = response.content.decode()

    assert response.status_code == 400
    assert message in html
    assert Reply.objects.count() == 0
    if field != "body":
        assert "My carefully written reply." in html, "the typed text comes back"


def test_staff_names_are_reserved_even_when_disguised(client, thread, rules):
    get_user_model().objects.create_user("mara", first_name="Mara", last_name="Quill", is_staff=True)
    for disguise in ["Mara Quill", "MARA QUILL", "Ｍａｒａ Ｑｕｉｌｌ", "Mára Quíll", "mara", "Moderator"]:
        response = client.post("/discussion/post/", form_data(thread, name=disguise))
        assert response.status_code == 400, disguise
        page = response.content.decode()
        assert "cannot be used here" in page and "staff" not in page.split("<form")[1].split("</form>")[0].lower()


def test_invalid_utf8_is_refused_not_replaced(client, thread, rules):
    body = "thread=" + thread.key + "&name=Robin&email=robin%40example.org&body=caf%E9&form_token=x"
    response = client.post("/discussion/post/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
    assert Reply.objects.count() == 0


def test_right_to_left_text_and_emoji_survive_intact(client, thread, rules):
    text = "مرحبا بكم — שלום 👩🏽‍💻 `code`"
    client.post("/discussion/post/", form_data(thread, body=text, name="ليلى"))
    reply = Reply.objects.get()
    assert reply.body == text and reply.author_name == "ليلى"
    assert "👩🏽‍💻" in reply.body_html


def test_double_click_creates_one_reply(client, thread, rules):
    data = form_data(thread)
    first = client.post("/discussion/post/", data)
    second = client.post("/discussion/post/", data)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Reply.objects.count() == 1


def test_rate_limited_post_is_429_with_the_text_kept(client, thread, rules):
    client.post("/discussion/post/", form_data(thread))
    response = client.post("/discussion/post/", form_data(thread, body="Second thought."))
    assert response.status_code == 429
    assert "Second thought." in response.content.decode()


def test_unknown_thread_is_404(client, rules):
    response = client.post("/discussion/post/", {"thread": "nope", "body": "x"})
    assert response.status_code == 404


def test_held_reply_is_visible_to_its_author_only(client, thread, rules, site_builder):
    rules.hold_first_reply = True
    rules.save()
    report = site_builder.report("Held report")
    from speakout.publishing.discussion import thread_for_report

    report_thread = thread_for_report(report)
    client.post("/discussion/post/", form_data(report_thread, body="Please hold me."))

    author_view = client.get(report.url).content.decode()
    client.cookies.clear()
    public_view = client.get(report.url).content.decode()

    assert "Please hold me." in author_view and "Awaiting moderation." in author_view
    assert "Please hold me." not in public_view
    assert "0 replies" in public_view


def test_author_can_edit_and_delete_within_the_window(client, thread, rules):
    client.post("/discussion/post/", form_data(thread, body="First version."))
    reply = Reply.objects.get()

    edit = client.post(f"/discussion/reply/{reply.pk}/edit/", {"body": "Second *version*."})
    reply.refresh_from_db()
    assert edit.status_code == 303
    assert reply.body_html == "<p>Second <em>version</em>.</p>" and reply.edited_at is not None

    delete = client.post(f"/discussion/reply/{reply.pk}/delete/")
    reply.refresh_from_db()
    assert delete.status_code == 303 and reply.status == Reply.Status.TRASH


def test_nobody_else_can_edit_and_the_author_not_after_the_window(client, thread, rules):
    client.post("/discussion/post/", form_data(thread))
    reply = Reply.objects.get()

    stranger = client.__class__()
    # Someone else's reply answers as a missing one does (tests/security/test_visibility.py).
    assert stranger.post(f"/discussion/reply/{reply.pk}/edit/", {"body": "hijack"}).status_code == 404
    Reply.objects.filter(pk=reply.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert client.post(f"/discussion/reply/{reply.pk}/edit/", {"body": "too late"}).status_code == 403
    assert client.post(f"/discussion/reply/{reply.pk}/delete/").status_code == 403
    reply.refresh_from_db()
    assert reply.body == "A thoughtful reply." and reply.status == Reply.Status.APPROVED


def test_report_a_reply_with_a_reason(client, thread, rules):
    client.post("/discussion/post/", form_data(thread))
    reply = Reply.objects.get()
    reader = client.__class__()

    form = reader.get(f"/discussion/reply/{reply.pk}/report/")
    missing = reader.post(f"/discussion/reply/{reply.pk}/report/", {"reason": ""})
    sent = reader.post(f"/discussion/reply/{reply.pk}/report/", {"reason": "harassment", "note": "Targets a member."})

    assert form.status_code == 200 and "Harassment" in form.content.decode()
    assert missing.status_code == 400
    assert sent.status_code == 200
    flag = Flag.objects.get()
    assert flag.reason == "harassment" and flag.note == "Targets a member."


def test_reports_from_one_reader_are_counted_once_and_limited(client, thread, rules, settings):
    """A second report of the same reply adds nothing; past the hourly limit the reader is told
    why (429, the form again) and nothing is stored, so reports cannot flood the moderators."""
    settings.SPEAKOUT_DISCUSSION_REPORTS_PER_HOUR = 2
    client.post("/discussion/post/", form_data(thread))
    first = Reply.objects.get()
    second, third = add_reply(thread, "Another.", name="Bo"), add_reply(thread, "A third.", name="Cy")
    reader = client.__class__()

    for _ in range(2):
        assert reader.post(f"/discussion/reply/{first.pk}/report/", {"reason": "spam"}).status_code == 200
    assert reader.post(f"/discussion/reply/{second.pk}/report/", {"reason": "spam"}).status_code == 200
    refused = reader.post(f"/discussion/reply/{third.pk}/report/", {"reason": "other", "note": "Keep my words."})
    refused_json = reader.post(
        f"/discussion/reply/{third.pk}/report/", {"reason": "other"}, headers={"Accept": "application/json"}
    )

    assert Flag.objects.filter(reply=first).count() == 1
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "many reports in a short time" in page and "Keep my words." in page
    assert refused_json.status_code == 429 and refused_json.json()["outcome"] == "rejected"
    assert not Flag.objects.filter(reply=third).exists()


def test_replies_of_a_hidden_thread_cannot_be_reported(client, thread, rules):
    client.post("/discussion/post/", form_data(thread))
    reply = Reply.objects.get()
    Thread.objects.filter(pk=thread.pk).update(status=Thread.Status.HIDDEN)
    assert client.get(f"/discussion/reply/{reply.pk}/report/").status_code == 404
    assert client.post(f"/discussion/reply/{reply.pk}/report/", {"reason": "spam"}).status_code == 404
    assert not Flag.objects.exists()


def test_signed_in_reader_comments_as_themselves(client, thread, rules):
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user("ines", email="ines@example.org", first_name="Ines", last_name="O")
    EmailAddress.objects.create(user=user, email="ines@example.org", verified=True, primary=True)
    client.force_login(user)
    response = client.post("/discussion/post/", form_data(thread, name="", email="", body="As myself."))
    reply = Reply.objects.get()

    assert response.status_code == 303
    assert reply.author_name == "Ines O" and reply.user == user and reply.commenter.email == "ines@example.org"
