"""Model and view tests for every page type of the publishing side."""

from datetime import timedelta

import pytest
from django.utils import timezone

from speakout.publishing.models import HomePage, ReportIndexPage, ReportPage, StandardPage
from tests.helpers import make_image, paragraph

pytestmark = pytest.mark.django_db


def test_home_page_shows_organisation_mission_and_latest_reports(client, site_builder):
    older = site_builder.report("Older report", date=timezone.now() - timedelta(days=3))
    newer = site_builder.report("Newer report", date=timezone.now() - timedelta(days=1))
    site_builder.report("Draft report", live=False)

    response = client.get("/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Test Collective" in html
    assert "Our mission." in html
    assert html.index(newer.title) < html.index(older.title), "latest reports come newest first"
    assert "Draft report" not in html


def test_home_page_latest_count_limits_the_list(client, site_builder):
    site_builder.home.latest_count = 2
    site_builder.home.save_revision().publish()
    for number in range(4):
        site_builder.report(f"Report {number}", date=timezone.now() - timedelta(days=number))

    html = client.get("/").content.decode()

    assert "Report 0" in html and "Report 1" in html
    assert "Report 2" not in html and "Report 3" not in html


def test_report_index_is_newest_first_and_paginated(client, site_builder, settings):
    settings.SPEAKOUT_REPORTS_PER_PAGE = 2
    for number in range(5):
        site_builder.report(f"Numbered {number}", date=timezone.now() - timedelta(days=number))

    first = client.get("/reports/").content.decode()
    third = client.get("/reports/?page=3").content.decode()

    assert first.index("Numbered 0") < first.index("Numbered 1")
    assert "Numbered 2" not in first
    assert "Numbered 4" in third
    assert 'rel="next"' in first
    assert client.get("/reports/?page=9").status_code == 404
    assert client.get("/reports/?page=abc").status_code == 404


def test_report_index_filters_by_category_and_tag(client, site_builder):
    research = site_builder.category("Research")
    site_builder.report("Housing study", categories=[research], tags=["housing"])
    site_builder.report("Conference notes", tags=["conference"])

    by_category = client.get("/reports/category/research/").content.decode()
    by_tag = client.get("/reports/tag/conference/").content.decode()

    assert "Housing study" in by_category and "Conference notes" not in by_category
    assert "Conference notes" in by_tag and "Housing study" not in by_tag
    assert client.get("/reports/category/nope/").status_code == 404
    assert client.get("/reports/tag/nope/").status_code == 404


def test_report_page_renders_every_part(client, site_builder):
    image = make_image("Harbour at dusk")
    body = [
        {"type": "heading", "value": {"text": "What we found", "level": "h2"}},
        paragraph('<p>See the note.<sup><a href="#note-1">1</a></sup></p>'),
        {"type": "quote", "value": {"quote": "Nobody asked us.", "attribution": "A member"}},
        {
            "type": "image",
            "value": {"image": image.pk, "alt_text": "Boats at dusk", "caption": "The harbour", "credit": ""},
        },
        {
            "type": "media_link",
            "value": {"url": "https://video.example/talk", "title": "The talk", "description": "", "kind": "video"},
        },
    ]
    report = site_builder.report(
        "Full report",
        standfirst="A short standfirst.",
        body=body,
        authors=[site_builder.author("Ana Ruiz"), site_builder.author("Bo Lind")],
        categories=[site_builder.category("Policy")],
        tags=["housing"],
        notes=["Source: our survey."],
    )

    response = client.get(report.url)
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1" in html and "Full report" in html
    assert "A short standfirst." in html
    assert "Ana Ruiz" in html and "Bo Lind" in html
    assert html.index("Ana Ruiz") < html.index("Bo Lind"), "byline keeps the editor's order"
    assert '<h2 id="what-we-found">What we found</h2>' in html
    assert "<blockquote><p>Nobody asked us.</p></blockquote>" in html
    assert 'alt="Boats at dusk"' in html and "<figcaption>The harbour" in html
    assert 'href="https://video.example/talk"' in html and "<iframe" not in html
    assert 'id="note-1"' in html and "Source: our survey." in html
    assert 'href="/reports/category/policy/"' in html and 'href="/reports/tag/housing/"' in html
    assert 'id="discussion"' in html, "a marked place for the discussion"


def test_report_page_meta_canonical_opengraph_and_twitter(client, site_builder):
    image = make_image("Card")
    report = site_builder.report(
        "Shared report",
        standfirst="Why this matters.",
        body=[{"type": "image", "value": {"image": image.pk, "alt_text": "A card", "caption": "", "credit": ""}}],
    )

    html = client.get(report.url).content.decode()

    assert f'<link rel="canonical" href="http://testserver{report.url}">' in html
    assert '<meta property="og:title" content="Shared report">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:description" content="Why this matters.">' in html
    assert '<meta property="og:image" content="http://testserver/media/' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert 'media="print"' in html


def test_standard_page_renders(client, site_builder):
    page = site_builder.standard_page("About", intro="Who we are.")
    page.body = [paragraph("<p>Founded by six people.</p>")]
    page.save_revision().publish()

    html = client.get(page.url).content.decode()

    assert "About" in html and "Who we are." in html and "Founded by six people." in html
    assert f'href="{page.url}" aria-current="page"' in html, "menu marks the current page"


def test_draft_and_private_reports_are_not_served_publicly(client, site_builder):
    draft = site_builder.report("Secret draft", live=False)
    private = site_builder.report("Members only", private=True)

    assert client.get(f"/reports/{draft.slug}/").status_code == 404
    response = client.get(private.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'type="password"' in html
    assert "Body of Members only" not in html


def test_page_type_rules():
    assert ReportIndexPage.subpage_types == ["speakout_publishing.ReportPage"]
    assert ReportPage.parent_page_types == ["speakout_publishing.ReportIndexPage"]
    assert HomePage.max_count == 1
    assert StandardPage.template == "publishing/standard_page.html"


def test_image_block_requires_alt_text():
    from django.core.exceptions import ValidationError

    from speakout.publishing.blocks import CaptionedImageBlock

    image = make_image()
    block = CaptionedImageBlock()
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"image": image.pk, "alt_text": "", "caption": "", "credit": ""}))


def test_cached_article_and_menu_follow_edits(client, site_builder):
    """The article and the menu are cached, but a new revision, an edited category or a new
    menu page shows on the next request."""
    category = site_builder.category("Research")
    report = site_builder.report("Cached report", categories=[category], standfirst="First standfirst.")
    assert "First standfirst." in client.get(report.url).content.decode()

    report.standfirst = "Second standfirst."
    report.save_revision().publish()
    assert "Second standfirst." in client.get(report.url).content.decode()

    category.name = "Renamed research"
    category.save()
    assert "Renamed research" in client.get(report.url).content.decode()

    site_builder.standard_page("Brand new page")
    assert "Brand new page" in client.get(report.url).content.decode()


def test_preview_is_never_served_from_the_cache(client, site_builder):
    report = site_builder.report("Previewed report", standfirst="Live words.")
    assert "Live words." in client.get(report.url).content.decode()  # the live article is cached
    report.standfirst = "Draft words."
    draft = report.save_revision().as_object()

    preview = draft.make_preview_request()
    preview.render()

    assert "Draft words." in preview.content.decode(), "a preview shows the draft, not the cached article"
    assert "Draft words." not in client.get(report.url).content.decode(), "and leaves nothing in the cache"


def test_report_page_has_unique_element_ids(client, site_builder):
    """The reply form and the follow form share a page; labels must point at one element each."""
    import re
    from collections import Counter

    report = site_builder.report("Ids report")
    html = client.get(report.url).content.decode()
    duplicates = [name for name, count in Counter(re.findall(r'\sid="([^"]+)"', html)).items() if count > 1]
    assert duplicates == []
