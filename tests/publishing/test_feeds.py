"""RSS and Atom feeds parse, list only published public reports, and filter by category and tag."""

from datetime import timedelta

import feedparser
import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, f"{url} is not well-formed: {feed.bozo_exception}"
    return response, feed


@pytest.fixture
def reports(site_builder):
    research = site_builder.category("Research")
    return {
        "public": site_builder.report(
            "Public research",
            categories=[research],
            tags=["housing"],
            standfirst="What we found.",
            authors=[site_builder.author("Mara Quill")],
            date=timezone.now() - timedelta(days=2),
        ),
        "other": site_builder.report("Other report", tags=["events"], date=timezone.now() - timedelta(days=1)),
        "draft": site_builder.report("Draft research", categories=[research], tags=["housing"], live=False),
        "private": site_builder.report("Private research", categories=[research], tags=["housing"], private=True),
    }


@pytest.mark.parametrize("flavour,version", [("rss", "rss20"), ("atom", "atom10")])
def test_site_feed_lists_only_published_public_reports(client, reports, flavour, version):
    response, feed = parse(client, f"/reports/feed/{flavour}/")

    assert feed.version == version
    titles = [entry.title for entry in feed.entries]
    assert titles == ["Other report", "Public research"], "newest first, no draft, no private report"
    entry = feed.entries[1]
    assert entry.link == "http://testserver" + reports["public"].url
    assert "What we found." in entry.summary
    assert entry.author == "Mara Quill"


@pytest.mark.parametrize("flavour", ["rss", "atom"])
def test_category_and_tag_feeds_filter(client, reports, flavour):
    _, by_category = parse(client, f"/reports/category/research/feed/{flavour}/")
    _, by_tag = parse(client, f"/reports/tag/events/feed/{flavour}/")

    assert [entry.title for entry in by_category.entries] == ["Public research"]
    assert [entry.title for entry in by_tag.entries] == ["Other report"]
    assert "Research" in by_category.feed.title


def test_unknown_category_or_tag_feed_is_404(client, reports):
    assert client.get("/reports/category/nope/feed/rss/").status_code == 404
    assert client.get("/reports/tag/nope/feed/atom/").status_code == 404
    assert client.get("/reports/feed/json/").status_code == 404


def test_pages_advertise_their_feeds(client, reports):
    html = client.get("/reports/category/research/").content.decode()
    assert 'type="application/rss+xml"' in html
    assert 'href="/reports/category/research/feed/rss/"' in html
    assert 'href="/reports/category/research/feed/atom/"' in html
