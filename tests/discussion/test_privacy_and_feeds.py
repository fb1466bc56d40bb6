"""Reply feeds, and the rule that no reply of an unpublished or private report appears anywhere."""

import feedparser
import pytest
from wagtail.models import PageViewRestriction

from speakout.discussion.models import Reply, Thread
from speakout.publishing.discussion import thread_for_report
from tests.discussion.helpers import add_reply

pytestmark = pytest.mark.django_db


def feed_titles(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    return [entry.summary for entry in parsed.entries]


@pytest.fixture
def two_reports(site_builder, rules):
    public = site_builder.report("Public report")
    secret = site_builder.report("Secret report")
    public_thread, secret_thread = thread_for_report(public), thread_for_report(secret)
    add_reply(public_thread, "A public reply")
    add_reply(secret_thread, "A reply that must not leak")
    return public, secret


@pytest.mark.parametrize("flavour", ["rss", "atom"])
def test_site_and_thread_reply_feeds(client, two_reports, flavour):
    public, _secret = two_reports
    everything = feed_titles(client, f"/discussion/feed/{flavour}/")
    per_thread = feed_titles(client, f"/discussion/thread/report-{public.pk}/feed/{flavour}/")

    assert any("A public reply" in entry for entry in everything)
    assert any("A reply that must not leak" in entry for entry in everything)  # still public here
    assert per_thread == ["<p>A public reply</p>"]


def test_unpublishing_a_report_hides_its_replies_everywhere(client, two_reports):
    public, secret = two_reports
    secret.unpublish()

    assert not Thread.objects.get(key=f"report-{secret.pk}").is_public
    assert not any("must not leak" in entry for entry in feed_titles(client, "/discussion/feed/rss/"))
    assert client.get(f"/discussion/thread/report-{secret.pk}/feed/rss/").status_code == 404
    reply = Reply.objects.get(body="A reply that must not leak")
    assert client.get(f"/discussion/reply/{reply.pk}/").status_code == 404
    assert client.get(f"/discussion/reply/{reply.pk}/report/").status_code == 404


def test_a_view_restriction_hides_replies_and_lifting_it_restores_them(client, two_reports):
    _public, secret = two_reports
    restriction = PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.PASSWORD, password="pw"
    )
    assert not Thread.objects.get(key=f"report-{secret.pk}").is_public
    assert not any("must not leak" in entry for entry in feed_titles(client, "/discussion/feed/atom/"))

    restriction.delete()
    assert Thread.objects.get(key=f"report-{secret.pk}").is_public


def test_private_report_page_shows_no_discussion_even_to_those_with_access(client, two_reports):
    _public, secret = two_reports
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.PASSWORD, password="pw")
    response = client.post(
        f"/_util/authenticate_with_password/{PageViewRestriction.objects.get().pk}/{secret.pk}/",
        {"password": "pw", "return_url": secret.url},
    )
    html = client.get(secret.url).content.decode()
    assert response.status_code in (302, 200)
    assert "Secret report" in html
    assert "must not leak" not in html and 'id="discussion"' not in html


def test_replies_cannot_be_posted_to_a_private_report(client, two_reports):
    from tests.discussion.helpers import form_data

    _public, secret = two_reports
    secret.unpublish()
    thread = Thread.objects.get(key=f"report-{secret.pk}")
    response = client.post("/discussion/post/", form_data(thread, body="Sneaking in"))
    # As for an unknown thread: the refusal must not name the private report.
    assert response.status_code == 404 and secret.title not in response.content.decode()
    assert not Reply.objects.filter(body="Sneaking in").exists()


def test_hidden_and_closed_switches(client, site_builder, rules):
    report = site_builder.report("Switchable")
    thread = thread_for_report(report)
    add_reply(thread, "Visible reply")

    report.replies = "closed"
    report.save_revision().publish()
    closed = client.get(report.url).content.decode()
    report.replies = "hidden"
    report.save_revision().publish()
    hidden = client.get(report.url).content.decode()

    assert "Visible reply" in closed and "Replies are closed" in closed and "Leave a Reply" not in closed
    assert "Visible reply" not in hidden and 'id="discussion"' not in hidden
    assert client.get(f"/discussion/thread/report-{report.pk}/feed/rss/").status_code == 404
