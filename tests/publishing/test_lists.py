"""Report lists and the report header: lead image with its alt text, category, standfirst,
byline, date and reply count on each card; reading time in the header."""

from __future__ import annotations

import pytest

from speakout.discussion.models import Thread
from tests.helpers import make_image, paragraph

pytestmark = pytest.mark.django_db


def test_cards_show_image_category_standfirst_date_and_reply_count(client, site_builder):
    picture = make_image()
    report = site_builder.report(
        "Night buses",
        standfirst="What changed on the night routes.",
        categories=[site_builder.category("Transport")],
        authors=[site_builder.author("Ana")],
        body=[
            paragraph("<p>Intro.</p>"),
            {"type": "image", "value": {"image": picture.pk, "alt_text": "A bus stop at night", "caption": ""}},
        ],
    )
    Thread.objects.update_or_create(key=report.thread_key, defaults={"approved_count": 3, "is_public": True})

    for url in ("/", site_builder.index.url):
        html = client.get(url).content.decode()
        card = html[html.index('<article class="report-card') :]
        card = card[: card.index("</article>")]
        assert 'alt="A bus stop at night"' in card and 'loading="lazy"' in card
        assert '<p class="kicker">Transport</p>' in card
        assert "What changed on the night routes." in card
        assert 'datetime="' in card and "Ana" in card
        assert f'href="{report.url}#discussion">3 replies</a>' in card
    index = client.get(site_builder.index.url).content.decode()
    assert '<h2 class="report-card__title">' in index, "headings go in order under the page's h1"


def test_the_report_header_gives_the_reading_time(client, site_builder):
    words = " ".join(["word"] * 700)
    report = site_builder.report("Long read", body=[paragraph(f"<p>{words}</p>")], standfirst="Short.")
    html = client.get(report.url).content.decode()
    assert "4 minutes read" in html  # 702 words at 230 a minute
    assert report.reading_minutes == 4
