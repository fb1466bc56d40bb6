"""After an author edits or deletes their reply, the report page says so once: a status notice
at the top of the discussion (where the redirect lands), never kept in a stored page."""

from __future__ import annotations

import pytest
from django.test import Client

from speakout.discussion.models import Reply
from speakout.publishing.discussion import thread_for_report
from tests.discussion.helpers import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(site_builder, rules, settings):
    settings.BASE_URL = "http://testserver"
    return site_builder.report("Rent strike notes")


def notice_of(html: str) -> str:
    start = html.find('id="discussion-notice"')
    return html[start : html.find("</div>", start)] if start >= 0 else ""


def test_edit_then_delete_each_leave_a_notice_shown_once(client, report):
    thread = thread_for_report(report)
    client.post("/discussion/post/", form_data(thread, body="First version."))
    reply = Reply.objects.get()

    edit = client.post(f"/discussion/reply/{reply.pk}/edit/", {"body": "Second version."})
    assert edit.status_code == 303
    assert edit["Location"] == f"{report.full_url}#discussion-notice"
    page = client.get(report.url).content.decode()
    notice = notice_of(page)
    assert 'role="status"' in notice and "Your reply is updated." in notice
    assert f'href="#reply-{reply.pk}">See your reply</a>' in notice
    assert page.index('id="discussion-notice"') < page.index(f'id="reply-{reply.pk}"')
    assert notice_of(client.get(report.url).content.decode()) == "", "shown once"

    delete = client.post(f"/discussion/reply/{reply.pk}/delete/")
    assert delete["Location"] == f"{report.full_url}#discussion-notice"
    page = client.get(report.url).content.decode()
    assert "Your reply is deleted." in notice_of(page)
    assert "Second version." not in page


def test_a_held_reply_edited_says_it_still_waits(client, report, rules):
    rules.hold_first_reply = True
    rules.save()
    thread = thread_for_report(report)
    client.post("/discussion/post/", form_data(thread, body="Please hold me."))
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.PENDING

    client.post(f"/discussion/reply/{reply.pk}/edit/", {"body": "Held, edited."})
    notice = notice_of(client.get(report.url).content.decode())
    assert "It still waits for a moderator: only you can see it." in notice


def test_the_notice_never_reaches_another_reader(client, report):
    """The page with the notice is not stored; the next anonymous reader gets a page without it."""
    thread = thread_for_report(report)
    client.post("/discussion/post/", form_data(thread, body="Mine."))
    reply = Reply.objects.get()
    client.post(f"/discussion/reply/{reply.pk}/edit/", {"body": "Mine, edited."})
    assert "Your reply is updated." in client.get(report.url).content.decode()
    for _ in range(2):
        other = Client().get(report.url)
        assert other.status_code == 200 and 'id="discussion-notice"' not in other.content.decode()
