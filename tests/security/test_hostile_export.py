"""Every hostile value of ``corpus.py`` in every text field the WXR export writes.

WordPress's importer runs as an administrator and stores what the file says without filtering;
WordPress then prints titles, post content, excerpts, comment text and comment author names as
HTML (its comment walker prints the author's name unescaped, trusting the comment form's filters
that an import skips). So each of those fields must hold nothing a browser would run, and a
re-import into Speakout must give every value back exactly as it was.
"""

from __future__ import annotations

import io

import pytest
from defusedxml.ElementTree import fromstring
from wagtail.models import Page

from speakout.discussion.models import Commenter, Reply, Thread
from speakout.interchange.importers import run_import
from speakout.interchange.models import ImportedItem
from speakout.interchange.wxr_export import export_wxr
from speakout.publishing.discussion import thread_for_report
from speakout.publishing.models import Author, Category, ReportPage
from tests.discussion.helpers import add_reply
from tests.helpers import paragraph

from . import corpus
from .executable import assert_no_live_payload

pytestmark = pytest.mark.django_db

WP = "{http://wordpress.org/export/1.2/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
EXCERPT = "{http://wordpress.org/export/1.2/excerpt/}encoded"
# Short enough for every field it goes into (a title, a heading, a category name); a NUL can be
# neither stored by PostgreSQL nor carried by XML (the export report counts what it drops).
MARKUP = [value for value in corpus.MARKUP if len(value) <= 100 and "\x00" not in value]
BODIES = corpus.MARKUP + corpus.MARKDOWN[:4] + corpus.MUST_SURVIVE + corpus.UNICODE_TRICKS


@pytest.fixture
def hostile_site(site_builder, settings):
    settings.BASE_URL = "http://testserver"
    for number, value in enumerate(MARKUP):
        author = Author.objects.create(slug=f"author-{number}", name=value)
        category = Category.objects.create(slug=f"category-{number}", name=value, description=value)
        report = site_builder.report(
            value,
            standfirst=value,
            body=[
                {"type": "heading", "value": {"text": value, "level": "h2"}},
                paragraph(f"<p>{value}</p>"),  # raw markup in the rich text, as a careless script could leave it
                {"type": "quote", "value": {"quote": value, "attribution": value}},
            ],
            categories=[category],
            tags=[f"tag {number} {value}"[:100]],
            authors=[author],
        )
        thread = thread_for_report(report)
        add_reply(thread, value, name=value, email="robin@example.org", required=False)
    thread = thread_for_report(site_builder.report("Every hostile body"))
    for body in BODIES:
        add_reply(thread, body, required=False)
    for name in corpus.NAMES:
        add_reply(thread, "A reply with a hostile name.", name=name, email="robin@example.org", required=False)
    for website in corpus.WEBSITES:
        add_reply(thread, "A reply with a hostile website.", website=website, required=False)
    return site_builder


def _exported() -> tuple[str, object]:
    out = io.StringIO()
    export_wxr(out)
    text = out.getvalue()
    return text, fromstring(text.encode())


def _meta(comment, key: str) -> str | None:
    for meta in comment.iter(f"{WP}commentmeta"):
        if meta.findtext(f"{WP}meta_key") == key:
            return meta.findtext(f"{WP}meta_value") or ""
    return None


def test_no_exported_text_field_holds_live_script_where_wordpress_shows_it(hostile_site):
    """Titles, bodies, excerpts, term and author names, comment text and comment names: all inert HTML."""
    replies = {str(reply.pk): reply for reply in Reply.objects.all()}
    assert len(replies) > len(MARKUP) + len(BODIES) - 10
    _text, root = _exported()
    channel = root.find("channel")
    for author in channel.iter(f"{WP}author"):
        assert_no_live_payload(author.findtext(f"{WP}author_display_name") or "", "an author's display name")
    for category in channel.iter(f"{WP}category"):
        assert_no_live_payload(category.findtext(f"{WP}cat_name") or "", "a category name")
        assert_no_live_payload(category.findtext(f"{WP}category_description") or "", "a category description")
    for tag in channel.iter(f"{WP}tag"):
        assert_no_live_payload(tag.findtext(f"{WP}tag_name") or "", "a tag name")
    seen = 0
    for item in channel.iter("item"):
        title = item.findtext("title") or ""
        assert_no_live_payload(title, f"the title {title!r}")
        assert_no_live_payload(item.findtext(CONTENT) or "", f"the post content of {title!r}")
        assert_no_live_payload(item.findtext(EXCERPT) or "", f"the excerpt of {title!r}")
        for term in item.iter("category"):
            assert_no_live_payload(term.text or "", f"a term of {title!r}")
        for comment in item.iter(f"{WP}comment"):
            reply = replies[comment.findtext(f"{WP}comment_id")]
            content = comment.findtext(f"{WP}comment_content") or ""
            assert_no_live_payload(content, f"reply {reply.pk}'s text")
            assert_no_live_payload(comment.findtext(f"{WP}comment_author") or "", f"reply {reply.pk}'s name")
            # What Speakout shows, and the source that gives it back.
            assert content == reply.body_html
            assert _meta(comment, "_speakout_source") == "speakout:" + reply.body
            seen += 1
    assert seen == len(replies)


def test_a_reimport_gives_every_hostile_value_back_exactly(hostile_site, tmp_path):
    """Speakout → WXR → an emptied Speakout: titles, standfirsts, names, terms and replies as typed."""

    def state():
        reports = {}
        for report in ReportPage.objects.prefetch_related("categories", "report_authors__author"):
            thread = Thread.objects.filter(key=report.thread_key).first()
            replies = sorted(
                (reply.author_name, reply.author_website, reply.body, reply.body_html, reply.status)
                for reply in (thread.replies.all() if thread else [])
            )
            reports[report.title] = (
                report.standfirst,
                sorted((c.name, c.description) for c in report.categories.all()),
                [a.author.name for a in report.report_authors.all()],
                sorted(t.name for t in report.tags.all()),
                replies,
            )
        return reports

    before = state()
    path = tmp_path / "hostile.xml"
    text, _root = _exported()
    path.write_text(text, encoding="utf-8")
    for page in ReportPage.objects.all():
        Page.objects.get(pk=page.pk).delete()
    for model in (Reply, Thread, Commenter, ImportedItem, Author, Category):
        model.objects.all().delete()
    from taggit.models import Tag

    Tag.objects.all().delete()
    result = run_import(path)
    assert not result.skipped
    after = state()
    assert sorted(after) == sorted(before)
    for title, value in before.items():
        assert after[title] == value, title
