"""Sitemap, robots.txt and site search show published public pages only."""

import pytest
from defusedxml import ElementTree

pytestmark = pytest.mark.django_db

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def pages(site_builder):
    return {
        "public": site_builder.report("Evictions after licensing", standfirst="Forty-one evictions."),
        "draft": site_builder.report("Evictions draft", live=False),
        "private": site_builder.report("Evictions private notes", private=True),
        "about": site_builder.standard_page("About us"),
    }


def test_sitemap_lists_only_live_public_pages(client, pages):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    locations = [loc.text for loc in ElementTree.fromstring(response.content).iter(f"{SITEMAP_NS}loc")]

    assert "http://testserver" + pages["public"].url in locations
    assert "http://testserver" + pages["about"].url in locations
    assert "http://testserver/reports/" in locations
    assert not any(pages["draft"].slug in loc for loc in locations)
    assert not any(pages["private"].slug in loc for loc in locations)


def test_robots_txt_points_at_sitemap_and_keeps_crawlers_out_of_admin(client, settings):
    response = client.get("/robots.txt")
    text = response.content.decode()

    assert response["Content-Type"].startswith("text/plain")
    assert f"Sitemap: {settings.BASE_URL}/sitemap.xml" in text
    assert "Disallow: /admin/" in text


def test_search_finds_published_reports_only(client, pages):
    response = client.get("/search/", {"q": "evictions"})
    html = response.content.decode()

    assert response.status_code == 200
    assert "Evictions after licensing" in html
    assert "Evictions draft" not in html
    assert "Evictions private notes" not in html


def test_search_without_query_shows_the_form(client, pages):
    html = client.get("/search/").content.decode()
    assert 'name="q"' in html and "result" not in html.split("<main")[1]


def test_search_query_is_escaped(client, pages):
    html = client.get("/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_search_finds_words_that_appear_only_in_replies(client, pages, site_builder, rules):
    """A word only a reply holds finds that reply on its report (linked to its anchor); replies
    waiting for a moderator, on drafts or private reports, or in hidden threads are never found."""
    from speakout.discussion.models import Reply, Thread
    from speakout.publishing.discussion import thread_for_report
    from tests.discussion.helpers import post

    other = site_builder.report("Another public report")
    published = post(thread_for_report(pages["public"]), body="The landlord said **marmalade** twice.").reply
    held = post(thread_for_report(pages["public"]), body="Held marmalade.", email="h@example.org").reply
    Reply.objects.filter(pk=held.pk).update(status=Reply.Status.PENDING)
    draft_thread = thread_for_report(pages["draft"])
    on_draft = Reply.objects.create(
        thread=draft_thread, body="Draft marmalade.", body_html="<p>x</p>", status="approved"
    )
    hidden = post(thread_for_report(other), body="Hidden marmalade.", email="x@example.org").reply
    Thread.objects.filter(pk=hidden.thread_id).update(status=Thread.Status.HIDDEN)

    html = client.get("/search/", {"q": "Marmalade"}).content.decode()

    assert "1 reply mentions “Marmalade”" in html
    assert f'href="{pages["public"].url}#reply-{published.pk}"' in html
    assert "The landlord said **marmalade** twice." in html
    assert "Robin on “Evictions after licensing”" in html
    for hidden_text in ("Held marmalade", "Draft marmalade", "Hidden marmalade"):
        assert hidden_text not in html
    assert on_draft.pk and "0 results" not in html

    assert "reply mentions" not in client.get("/search/", {"q": "evictions"}).content.decode()
