"""Remembered page routes (speakout/publishing/routing.py): the second request for a page skips
Wagtail's walk down the tree, and anything that changes which page answers a path (unpublishing,
a new slug, a move, a deletion, a view restriction) counts on the very next request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction

from speakout.publishing import routing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_routes(settings):
    # Off, so every request routes, whoever asks.
    settings.SPEAKOUT_PAGE_CACHE_ENABLED = False
    routing.forget_all()
    yield
    routing.forget_all()


def signed_in_client() -> Client:
    """A reader the page cache does not answer."""
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.create_user("lee", "lee@example.org", "pw"))
    return client


def queries_for(client, url: str) -> tuple[int, int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    page_queries = [query for query in queries if '"wagtailcore_page"' in query["sql"]]
    return response.status_code, len(page_queries), response.content.decode()


def test_a_remembered_route_serves_the_same_page_with_fewer_queries(site_builder):
    report = site_builder.report("Bus routes")
    client = signed_in_client()
    status, first_count, first = queries_for(client, report.url)
    status_again, second_count, second = queries_for(client, report.url)
    assert status == status_again == 200
    assert "Bus routes" in second and "Body of Bus routes." in second
    assert second_count < first_count
    # The page alone: the feed link (its parent) is in the cached head, and the route is known to
    # have no view restriction under the content version.
    assert second_count == 1
    # Then none: the page's row is kept with the route.
    status, third_count, third = queries_for(client, report.url)
    assert (status, third_count) == (200, 0)
    assert "Bus routes" in third and "Body of Bus routes." in third
    with CaptureQueriesContext(connection) as queries:
        assert client.get(report.url).status_code == 200
    assert not [query for query in queries if "wagtailcore_pageviewrestriction" in query["sql"]]


def test_a_published_edit_shows_on_the_next_request_and_a_draft_does_not(site_builder):
    """The page's row kept with the route is the live one: a published edit replaces it at once,
    and each request gets an instance of its own (one request's marks never reach another's)."""
    report = site_builder.report("Bus routes")
    client = signed_in_client()
    for _round in range(2):
        assert "<title>Bus routes" in client.get(report.url).content.decode()
    report.title = "Bus routes, revised"
    report.save_revision()
    assert "<title>Bus routes ·" in client.get(report.url).content.decode(), "a draft is not shown"
    report.get_latest_revision().publish()
    html = client.get(report.url).content.decode()
    assert "<title>Bus routes, revised" in html
    page = routing._remembered_page(next(reversed(routing._routes)))
    page.title = "Changed in one request"
    assert routing._remembered_page(next(reversed(routing._routes))).title == "Bus routes, revised"


def test_unpublished_and_deleted_pages_are_gone_on_the_next_request(site_builder):
    gone, deleted = site_builder.report("Withdrawn"), site_builder.report("Removed")
    client = signed_in_client()
    for report in (gone, deleted):
        for _round in range(2):
            assert client.get(report.url).status_code == 200
    gone.unpublish()
    assert client.get(gone.url).status_code == 404
    url = deleted.url
    deleted.delete()
    assert client.get(url).status_code == 404


def test_a_new_slug_moves_the_page_at_once(site_builder):
    report = site_builder.report("Cycle lanes")
    client = signed_in_client()
    old_url = report.url
    for _round in range(2):
        assert client.get(old_url).status_code == 200
    report.slug = "cycle-lanes-2027"
    report.save_revision().publish()
    assert client.get(old_url).status_code == 404
    assert client.get("/reports/cycle-lanes-2027/").status_code == 200


def test_a_view_restriction_added_later_is_enforced(site_builder):
    report = site_builder.report("Council minutes")
    client = signed_in_client()
    for _round in range(2):
        assert "Body of Council minutes." in client.get(report.url).content.decode()
    PageViewRestriction.objects.create(page=report, restriction_type=PageViewRestriction.PASSWORD, password="pw")
    html = client.get(report.url).content.decode()
    assert 'type="password"' in html and "Body of Council minutes." not in html


def test_index_pages_with_their_own_routes_still_route(site_builder):
    from speakout.publishing.models import Category

    category = Category.objects.create(name="Housing", slug="housing")
    site_builder.report("Rent caps", categories=[category])
    client = signed_in_client()
    for _round in range(2):
        listing = client.get("/reports/category/housing/")
        assert listing.status_code == 200 and "Rent caps" in listing.content.decode()
        assert client.get("/reports/feed/rss/").status_code == 200
        assert client.get("/reports/category/nothing/").status_code == 404


def test_a_remembered_route_knows_the_page_is_unrestricted_until_that_changes(site_builder, settings):
    """The page cache shares a page only without view restrictions; for a remembered route that
    is known under the content version, so a render asks neither the page cache's check nor
    Wagtail's own again."""
    from speakout.discussion.models import Thread
    from speakout.pagecache.middleware import STATUS_HEADER

    settings.SPEAKOUT_PAGE_CACHE_ENABLED = True
    report = site_builder.report("Budget notes")
    client = Client()
    assert client.get(report.url).status_code == 200  # routed by Wagtail, then remembered
    Thread.objects.get(key=report.thread_key).bump_version()  # rendered again, from the remembered route
    with CaptureQueriesContext(connection) as queries:
        response = client.get(report.url)
    assert response[STATUS_HEADER] == "miss", "rendered and stored for everyone"
    asked = [query["sql"] for query in queries if "wagtailcore_pageviewrestriction" in query["sql"]]
    assert not asked, asked

    restriction = PageViewRestriction.objects.create(
        page=report, restriction_type=PageViewRestriction.PASSWORD, password="pw"
    )
    for _round in range(2):
        response = client.get(report.url)
        html = response.content.decode()
        assert 'type="password"' in html and "Body of Budget notes." not in html
        assert STATUS_HEADER not in response, "a restricted page is never stored or served from the cache"

    # A reader who gave the password sees the page; what they see is kept for no one else, however
    # often the (now remembered) route is taken.
    insider = signed_in_client()
    insider.post(
        f"/_util/authenticate_with_password/{restriction.pk}/{report.pk}/", {"password": "pw", "return_url": report.url}
    )
    for _round in range(3):
        assert "Body of Budget notes." in insider.get(report.url).content.decode()
    from django.contrib.auth import get_user_model

    outsider = Client()
    outsider.force_login(get_user_model().objects.create_user("sam", "sam@example.org", "pw"))
    for _round in range(2):
        html = outsider.get(report.url).content.decode()
        assert 'type="password"' in html and "Body of Budget notes." not in html


def test_routable_pages_have_their_resolvers_before_the_first_request():
    """Wagtail would build one during a request and store it on the class while another thread
    loops over the class's attributes (a 500 under the first concurrent requests)."""
    from django.apps import apps
    from wagtail.contrib.routable_page.models import RoutablePageMixin

    routable = [model for model in apps.get_models() if issubclass(model, RoutablePageMixin)]
    assert routable
    assert all("_routablepage_urlresolver" in model.__dict__ for model in routable)
