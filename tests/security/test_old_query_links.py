"""Old WordPress links to imported posts, ``/?p=ID`` and old pretty links (``/2024/01/slug/``),
lead only to what anyone may read. Counting ids must not list the addresses (slugs made from
titles) of drafts, private, pending and scheduled posts, nor of pages behind a password; nor may
an old pretty link tell that such a page exists and where it is now."""

from __future__ import annotations

import pytest
from django.test import Client

from speakout.interchange.importers import run_import
from speakout.publishing.models import ReportPage
from tests.interchange.helpers import wxr

BASE = "https://old.example.org"


def _item(post_id: int, status: str, title: str, *, slug: str = "", link: str = "", password: str = "") -> str:
    return f"""<item><title>{title}</title><link>{BASE}{link or f"/?p={post_id}"}</link>
<wp:post_id>{post_id}</wp:post_id><wp:post_type>post</wp:post_type><wp:status>{status}</wp:status><wp:post_parent>0</wp:post_parent>
<wp:post_password>{password}</wp:post_password>
<wp:post_name>{slug}</wp:post_name><wp:post_date_gmt>2024-01-02 10:00:00</wp:post_date_gmt>
<content:encoded><![CDATA[<p>Text of {title}.</p>]]></content:encoded></item>"""


# Posts nobody outside could read on the old site: (WordPress status, title, slug or "").
HIDDEN_POSTS = [
    ("draft", "Eviction plan for Riverside Court", ""),
    ("private", "Names of the tenants at risk", "names-of-the-tenants-at-risk"),
    ("pending", "Statement against the landlord", ""),
    ("future", "Occupation on Monday", "occupation-on-monday"),
]


def _wxr(*items: str) -> str:
    return wxr(BASE, *items)


# -- hidden imported posts found by their old ids ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "title", "slug"), HIDDEN_POSTS)
def test_an_old_query_link_does_not_lead_a_stranger_to_a_hidden_report(site_builder, tmp_path, status, title, slug):
    """``/?p=ID`` of a post nobody outside could read on the old site must answer as an unknown id
    does (the home page, no redirect): a 301 whose ``Location`` is the hidden page's address tells
    its slug, made from its title, to anyone who counts ids."""
    export = tmp_path / "export.xml"
    export.write_text(_wxr(_item(10, "publish", "Public report"), _item(20, status, title, slug=slug)))
    run_import(export)
    hidden = ReportPage.objects.get(title=title)
    assert not hidden.live
    stranger = Client()
    public = stranger.get("/?p=10")
    assert public.status_code == 301  # the published post's old link still works
    unknown = stranger.get("/?p=999")
    answer = stranger.get("/?p=20")
    assert hidden.slug not in answer.get("Location", ""), f"the {status} post's address is handed out"
    assert answer.status_code == unknown.status_code


@pytest.mark.django_db
def test_an_old_query_link_does_not_lead_to_a_page_behind_a_password(site_builder, tmp_path):
    """A published post an editor later put behind a password: its old id answers as an unknown
    id does too (the page's own address would tell its title)."""
    from wagtail.models import PageViewRestriction

    export = tmp_path / "export.xml"
    export.write_text(_wxr(_item(30, "publish", "Members only notes", slug="members-only-notes")))
    run_import(export)
    page = ReportPage.objects.get(title="Members only notes")
    assert Client().get("/?p=30").status_code == 301
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.PASSWORD, password="s3cret")
    answer = Client().get("/?p=30")
    assert page.slug not in answer.get("Location", "")
    assert answer.status_code == Client().get("/?p=999").status_code


# -- hidden imported posts found by their old pretty links ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "title", "slug"), HIDDEN_POSTS)
def test_an_old_pretty_link_does_not_lead_a_stranger_to_a_hidden_report(site_builder, tmp_path, status, title, slug):
    """The old pretty link of a post nobody outside could read answers 404, as an unknown address
    does: a 301 to the hidden page would tell that it exists and where (its slug, its title)."""
    export = tmp_path / "export.xml"
    export.write_text(
        _wxr(
            _item(10, "publish", "Public report", link="/2024/01/public-report/"),
            _item(20, status, title, slug=slug, link="/2024/01/hidden-post/"),
        )
    )
    run_import(export)
    hidden = ReportPage.objects.get(title=title)
    assert not hidden.live
    stranger = Client()
    assert stranger.get("/2024/01/public-report/").status_code == 301  # the published post's old link still works
    answer = stranger.get("/2024/01/hidden-post/")
    assert hidden.slug not in answer.get("Location", ""), f"the {status} post's address is handed out"
    assert answer.status_code == 404
    if slug:  # its old name as a path (``/slug/``) says nothing either
        assert stranger.get(f"/{slug}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("restriction_type", ["password", "login"])
def test_an_old_pretty_link_does_not_lead_to_a_restricted_page(site_builder, tmp_path, restriction_type):
    """A published post behind a password (from WordPress or set later) or for signed-in readers
    only: its old pretty link answers 404, until the restriction is lifted."""
    from wagtail.models import PageViewRestriction

    export = tmp_path / "export.xml"
    export.write_text(_wxr(_item(30, "publish", "Members only notes", link="/2019/05/members-only-notes/")))
    run_import(export)
    page = ReportPage.objects.get(title="Members only notes")
    assert Client().get("/2019/05/members-only-notes/").status_code == 301
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=restriction_type, password="s3cret")
    answer = Client().get("/2019/05/members-only-notes/")
    assert page.slug not in answer.get("Location", "")
    assert answer.status_code == 404
    restriction.delete()
    assert Client().get("/2019/05/members-only-notes/").status_code == 301


@pytest.mark.django_db
def test_an_old_pretty_link_of_a_post_imported_behind_its_password_answers_404(site_builder, tmp_path):
    export = tmp_path / "export.xml"
    export.write_text(_wxr(_item(40, "publish", "Meeting notes", link="/2020/03/meeting-notes/", password="pw")))
    run_import(export)
    page = ReportPage.objects.get(title="Meeting notes")
    assert page.live and page.get_view_restrictions().exists()
    assert Client().get("/2020/03/meeting-notes/").status_code == 404


@pytest.mark.django_db
def test_an_old_pretty_link_of_a_report_unpublished_later_answers_404(site_builder, tmp_path):
    export = tmp_path / "export.xml"
    export.write_text(_wxr(_item(50, "publish", "Retracted claim", link="/2021/07/retracted-claim/")))
    run_import(export)
    assert Client().get("/2021/07/retracted-claim/").status_code == 301
    ReportPage.objects.get(title="Retracted claim").unpublish()
    assert Client().get("/2021/07/retracted-claim/").status_code == 404


@pytest.mark.django_db
def test_every_other_redirect_answers_as_wagtails_own(site_builder):
    """``PublicRedirectMiddleware`` repeats Wagtail's ``process_response``: for a plain link or a
    public page it must answer as Wagtail's does (fails on the upgrade that changes it)."""
    from django.http import HttpResponseNotFound
    from django.test import RequestFactory
    from wagtail.contrib.redirects.middleware import RedirectMiddleware
    from wagtail.contrib.redirects.models import Redirect

    from speakout.interchange.middleware import PublicRedirectMiddleware

    report = site_builder.report("Winter survey")
    Redirect.objects.create(old_path="/donate", redirect_link="https://pay.example.org/speakout")
    Redirect.objects.create(old_path="/survey?year=2023", redirect_page=report, is_permanent=False)
    Redirect.objects.create(old_path="/umfrage-ü", redirect_page=report)
    expected = {"/donate/": 301, "/donate/?ref=mail": 301, "/survey?year=2023": 302, "/survey?year=2024": 404}
    expected |= {"/umfrage-%C3%BC/": 301, "/nothing/": 404}
    for path, status in expected.items():
        request = RequestFactory().get(path)
        ours = PublicRedirectMiddleware(HttpResponseNotFound)(request)
        wagtails = RedirectMiddleware(HttpResponseNotFound)(request)
        assert (ours.status_code, ours.get("Location")) == (wagtails.status_code, wagtails.get("Location")), path
        assert ours.status_code == status, path
