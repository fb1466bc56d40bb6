"""Old WordPress links to imported posts: ``/?p=ID`` leads only to what anyone may read. Counting
ids must not list the addresses (slugs made from titles) of drafts, private, pending and
scheduled posts, nor of pages behind a password."""

from __future__ import annotations

import pytest
from django.test import Client

from speakout.interchange.importers import run_import
from speakout.publishing.models import ReportPage
from tests.interchange.helpers import wxr

BASE = "https://old.example.org"


def _item(post_id: int, status: str, title: str, *, slug: str = "") -> str:
    return f"""<item><title>{title}</title><link>{BASE}/?p={post_id}</link><wp:post_id>{post_id}</wp:post_id>
<wp:post_type>post</wp:post_type><wp:status>{status}</wp:status><wp:post_parent>0</wp:post_parent>
<wp:post_name>{slug}</wp:post_name><wp:post_date_gmt>2024-01-02 10:00:00</wp:post_date_gmt>
<content:encoded><![CDATA[<p>Text of {title}.</p>]]></content:encoded></item>"""


def _wxr(*items: str) -> str:
    return wxr(BASE, *items)


# -- hidden imported posts found by their old ids ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "title", "slug"),
    [
        ("draft", "Eviction plan for Riverside Court", ""),
        ("private", "Names of the tenants at risk", "names-of-the-tenants-at-risk"),
        ("pending", "Statement against the landlord", ""),
        ("future", "Occupation on Monday", "occupation-on-monday"),
    ],
)
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
