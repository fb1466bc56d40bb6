"""Nothing an import changes or leaves out goes unreported: a value that fits is kept whole, and
every value cut or left out is named in the report (which item, which field, what happened)."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from wagtail.contrib.redirects.models import Redirect

from speakout.discussion.models import Commenter, Reply
from speakout.interchange.importers import run_import
from speakout.interchange.report import summary_lines
from speakout.publishing.models import Author, Category, ReportPage
from tests.interchange.helpers import TESTDATA, wxr

BASE = "https://old.example.org"


def comment(comment_id: str, *, name: str = "Ana", email: str = "", url: str = "") -> str:
    return f"""<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>
<wp:comment_author>{escape(name)}</wp:comment_author><wp:comment_author_email>{escape(email)}</wp:comment_author_email>
<wp:comment_author_url>{escape(url)}</wp:comment_author_url><wp:comment_approved>1</wp:comment_approved>
<wp:comment_date_gmt>2024-01-03 10:00:00</wp:comment_date_gmt><wp:comment_content>Hello</wp:comment_content>
</wp:comment>"""


def post(*comments: str, title: str = "Our report", extra: str = "") -> str:
    return f"""<item><title>{escape(title)}</title><dc:creator>ana</dc:creator>
<wp:post_id>8</wp:post_id><wp:post_date_gmt>2024-01-02 10:00:00</wp:post_date_gmt>
<wp:post_name>our-report</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
{extra}{"".join(comments)}</item>"""


@pytest.fixture
def import_items(site, tmp_path):
    def run(*items: str, authors: str = ""):
        path = tmp_path / "export.xml"
        path.write_text(wxr(BASE, authors, *items), encoding="utf-8")
        return run_import(path)

    return run


def test_a_long_name_is_kept_whole_and_only_a_name_too_long_to_keep_is_cut_and_listed(import_items):
    """A name as long as WordPress stores one (a pingback's is the linking page's title) is
    kept whole, on the reply and the commenter; a longer one is cut and the report says so."""
    long_name, too_long = "Ping with the whole title of the page that linked here " * 3, "N" * 300
    result = import_items(post(comment("1", name=long_name, email="ana@example.org"), comment("2", name=too_long)))
    assert Reply.objects.get(external_id="wp:1").author_name == long_name.strip()
    assert Commenter.objects.get(email="ana@example.org").display_name == long_name.strip()
    assert Reply.objects.get(external_id="wp:2").author_name == "N" * 255
    assert result.notes == [("reply 2", "the name was cut to 255 characters")]


def test_a_website_that_is_no_usable_link_is_left_out_and_listed(import_items):
    """A website longer than the column, or one that is not an http(s) address, is no usable
    link: it is left out, and the report names the reply and the field."""
    result = import_items(
        post(
            comment("1", url="https://example.org/" + "a" * 600),
            comment("2", url="javascript:alert(1)"),
            comment("3", url="https://example.org/ok"),
        )
    )
    websites = dict(Reply.objects.values_list("external_id", "author_website"))
    assert websites == {"wp:1": "", "wp:2": "", "wp:3": "https://example.org/ok"}
    why = "the website was left out: it is not an http or https address of at most 500 characters"
    assert result.notes == [("reply 1", why), ("reply 2", why)]


def test_an_email_that_is_no_address_is_left_out_and_listed_never_cut(import_items):
    """An address without “@” (or with a space) is left out and listed; a too long one is left
    out too, never cut, since a cut address is someone else's (or nobody's)."""
    too_long = "a" * 250 + "@example.org"
    result = import_items(
        post(comment("1", email="ana at example.org"), comment("2", email=too_long), comment("3", email="no-at-sign"))
    )
    assert not Commenter.objects.exists()
    assert not Reply.objects.filter(commenter__isnull=False).exists()
    why = "the email address was left out: it has no “@”, has a space or is longer than 254 characters"
    assert result.notes == [("reply 1", why), ("reply 2", why), ("reply 3", why)]


def test_a_reply_id_too_long_to_recognise_again_is_skipped_and_listed(import_items):
    """A cut id could match another reply on the next import: the reply is skipped, with why."""
    result = import_items(post(comment("9" * 120), comment("5")))
    assert list(Reply.objects.values_list("external_id", flat=True)) == ["wp:5"]
    assert result.skipped == [(f"reply {'9' * 120}", "its id is longer than 97 characters")]


def test_post_fields_are_kept_whole_or_cut_and_listed(import_items):
    """The excerpt (an unbounded field here) is kept whole; a title, tag, category or author
    name longer than its column is cut and listed, on the report beside the other notes."""
    excerpt = "A long standfirst. " * 100
    title, tag, category, author = "T" * 300, "g" * 150, "c" * 150, "A" * 230
    authors = f"""<wp:author><wp:author_login>ana</wp:author_login>
<wp:author_display_name>{author}</wp:author_display_name></wp:author>"""
    extra = f"""<excerpt:encoded>{excerpt}</excerpt:encoded>
<category domain="post_tag" nicename="long-tag">{tag}</category>
<category domain="category" nicename="long-category">{category}</category>"""
    result = import_items(post(title=title, extra=extra), authors=authors)
    report = ReportPage.objects.get()
    assert report.standfirst == excerpt.strip()
    assert report.title == "T" * 255
    assert [t.name for t in report.tags.all()] == ["g" * 100]
    assert Category.objects.get().name == "c" * 100
    assert Author.objects.get().name == "A" * 200
    assert result.notes == [
        ("author ana", "the name was cut to 200 characters"),
        (f"“{'T' * 80}” (id 8)", f"the tag “{'g' * 100}” was cut to 100 characters"),
        ("category long-category", "the name was cut to 100 characters"),
        (f"“{'T' * 80}” (id 8)", "the title was cut to 255 characters"),
    ]
    lines = summary_lines(result)
    assert f"  * “{'T' * 80}” (id 8): the title was cut to 255 characters" in lines


def test_a_comments_ip_address_and_browser_are_said_not_to_be_imported(site):
    """A real export's comments carry IP addresses: the report says once that they (and the
    browsers) were not imported, rather than dropping them without a word."""
    result = run_import(TESTDATA / "isso" / "wordpress.xml")
    why = "their IP addresses and browsers (user agents) were not imported: Speakout keeps neither"
    assert result.notes.count(("replies", why)) == 1


def test_an_old_address_too_long_for_a_redirect_is_listed(import_items):
    """A permalink longer than a redirect can hold gets no redirect (PostgreSQL refused the whole
    import for it) and the report names it; the post's other old addresses still redirect."""
    slug = "a" * 190
    long_path = f"/category/reports-from-the-field/and-a-subcategory-of-those/2024/01/02/{slug}"
    link = f"<link>{BASE}{long_path}/</link>"
    result = import_items(post(extra=link))
    assert set(Redirect.objects.values_list("old_path", flat=True)) == {"/?p=8", "/our-report"}
    why = f"no redirect from its old address {long_path}: it is longer than 255 characters"
    assert result.notes == [("“Our report” (id 8)", why)]
