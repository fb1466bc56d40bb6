"""Our own WXR fixture: what the real exports do not cover."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from wagtail.contrib.redirects.models import Redirect

from speakout.discussion.models import Commenter, RemovedReply, Reply, Thread
from speakout.interchange.importers import run_import
from speakout.interchange.models import ImportedItem
from speakout.publishing.models import Category, ReportPage, StandardPage
from tests.interchange.helpers import FIXTURES, content_counts

EDGE = FIXTURES / "edge-cases.xml"


@pytest.fixture
def imported(site):
    return run_import(EDGE)


def test_reports_pages_and_filing(imported):
    """Posts become reports, pages standard pages; drafts and private posts stay drafts; the
    date is the GMT one; excerpt, author, category, tag and sticky flag come along."""
    survey = ReportPage.objects.get(title="Winter heating survey")
    assert survey.live
    assert survey.date == datetime(2023, 1, 15, 9, 30, tzinfo=UTC)
    assert survey.standfirst == "Results of the winter survey."
    assert [a.name for a in survey.authors] == ["Marta Ruiz"]
    assert [c.slug for c in survey.categories.all()] == ["repairs"]
    assert [t.name for t in survey.tags.all()] == ["heating"]
    item = ImportedItem.objects.get(kind="report", object_id=str(survey.pk))
    assert item.data["sticky"] is True
    assert ImportedItem.objects.get(kind="category", source_id="repairs").data == {"parent": "housing"}
    assert Category.objects.filter(slug="housing").exists()
    drafts = ReportPage.objects.filter(live=False).order_by("title")
    assert [d.title for d in drafts] == ["Board minutes", "Meeting notes (draft)"]
    about = StandardPage.objects.get(title="About us")
    assert about.live
    assert not ReportPage.objects.filter(title="Old thing").exists()
    assert any("trash" in why for _what, why in imported.skipped)
    assert any("nav_menu_item" in why for _what, why in imported.skipped)


def test_body_becomes_clean_blocks(imported):
    """Blank-line paragraphs, block comments and inline markup become clean rich text blocks."""
    survey = ReportPage.objects.get(title="Winter heating survey")
    blocks = [(block.block_type, block.value) for block in survey.body]
    kinds = [kind for kind, _value in blocks]
    assert kinds == ["paragraph", "heading", "paragraph", "quote"]
    assert blocks[0][1].source == "<p>We asked <b>every flat</b> about the heating.</p>"
    assert blocks[1][1]["text"] == "What we found"
    assert "<br>" in blocks[2][1].source
    assert blocks[3][1]["quote"] == "Nobody came for a month."
    assert blocks[3][1]["attribution"] == "A tenant"
    assert "wp:" not in str(survey.body.raw_data)


def test_replies_threading_statuses_and_kinds(imported):
    """A child with a lower id than its parent nests under it, a missing parent puts the reply
    at the top, spam and trash and post-trashed statuses are kept, pingbacks are their own kind."""
    survey = ReportPage.objects.get(title="Winter heating survey")
    thread = Thread.objects.get(key=survey.thread_key)
    replies = {r.external_id: r for r in thread.replies.all()}
    assert len(replies) == 9
    lena, sam, thanks = replies["wp:9"], replies["wp:5"], replies["wp:10"]
    assert sam.parent_id == lena.pk and sam.depth == 1 and sam.pk < 10**12
    assert thanks.parent_id == sam.pk and thanks.depth == 2
    assert thanks.path.startswith(sam.path) and sam.path.startswith(lena.path)
    assert replies["wp:14"].parent_id is None and replies["wp:14"].depth == 0
    assert replies["wp:11"].status == Reply.Status.SPAM
    assert replies["wp:12"].status == Reply.Status.TRASH
    assert replies["wp:13"].status == Reply.Status.TRASH
    assert thanks.status == Reply.Status.PENDING
    assert replies["wp:15"].kind == Reply.Kind.PINGBACK
    assert replies["wp:16"].kind == Reply.Kind.TRACKBACK
    assert lena.body_html == "<p>Our radiator was cold for six weeks.</p>\n<p>Still waiting.</p>" or (
        "<p>Our radiator was cold for six weeks.</p>" in lena.body_html
    )
    assert sam.author_website == "https://sam.example.net"
    assert sam.created_at == datetime(2023, 1, 16, 11, 0, tzinfo=UTC)
    assert thread.approved_count == 5
    assert Commenter.objects.get(email="lena@example.net").approved_count == 1
    assert any("404" in why for _what, why in imported.notes)


def test_reading_order_follows_the_tree(imported):
    """Ordering by path reads the thread top-down, children under their parents."""
    survey = ReportPage.objects.get(title="Winter heating survey")
    ordered = list(Reply.objects.filter(thread__key=survey.thread_key).order_by("path").values_list("external_id"))
    ids = [row[0] for row in ordered]
    assert ids.index("wp:9") < ids.index("wp:5") < ids.index("wp:10")


def test_closed_comments_and_page_threads(imported):
    about = StandardPage.objects.get(title="About us")
    assert not Thread.objects.filter(key=f"page-{about.pk}").exists()  # no replies, no thread


def test_old_links_redirect_permanently(imported, client):
    """The dated permalink, ?p=ID and the bare slug all lead to the new page, permanently."""
    survey = ReportPage.objects.get(title="Winter heating survey")
    for old in ("/2023/01/15/winter-heating-survey/", "/?p=101", "/winter-heating-survey/"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response["Location"].endswith(survey.url), old
    about = StandardPage.objects.get(title="About us")
    response = client.get("/?page_id=201")
    assert response.status_code == 301 and response["Location"].endswith(about.url)
    assert client.get("/?p=999999").status_code == 200  # unknown ids fall through to the page
    assert Redirect.objects.filter(old_path="/?p=101", is_permanent=True).exists()


def test_second_import_changes_nothing_and_a_later_file_updates(imported, tmp_path):
    before = content_counts()
    again = run_import(EDGE)
    assert content_counts() == before
    assert again.get("report", "unchanged") == 3 and again.get("reply", "unchanged") == 9
    later = tmp_path / "later.xml"
    text = EDGE.read_text(encoding="utf-8")
    text = text.replace(
        "<![CDATA[Thanks Sam.]]></wp:comment_content>\n\t\t<wp:comment_approved><![CDATA[0]]>",
        "<![CDATA[Thanks Sam!]]></wp:comment_content>\n\t\t<wp:comment_approved><![CDATA[1]]>",
    )
    text = text.replace("Winter heating survey</title>", "Winter heating survey, results</title>")
    later.write_text(text, encoding="utf-8")
    result = run_import(later)
    assert content_counts() == before
    assert result.get("report", "updated") == 1 and result.get("reply", "updated") == 1
    thanks = Reply.objects.get(external_id="wp:10")
    assert thanks.status == Reply.Status.APPROVED and "Thanks Sam!" in thanks.body_html
    assert ReportPage.objects.filter(title="Winter heating survey, results").count() == 1


def test_a_second_import_keeps_what_was_decided_here(imported):
    """Importing the same file again brings back no reply deleted here (by its author or the
    purge) and leaves a reply a moderator moved, or someone edited, as it is now."""
    from django.utils import timezone

    from speakout.discussion import services

    survey = ReportPage.objects.get(title="Winter heating survey")
    replies = {r.external_id: r for r in Reply.objects.filter(thread__key=survey.thread_key)}
    lena, sam, top = replies["wp:9"], replies["wp:5"], replies["wp:14"]
    assert lena.status == top.status == Reply.Status.APPROVED
    services.set_status(lena, Reply.Status.TRASH, action="evidence_hold", reason="kept for a complaint")
    services.delete_permanently(sam, reason="Deleted by its author.")
    Reply.objects.filter(pk=top.pk).update(body="Text without the phone number.", edited_at=timezone.now())
    deleted_on = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    RemovedReply.objects.filter(external_id="wp:5").update(removed_at=deleted_on)

    result = run_import(EDGE)

    lena.refresh_from_db()
    top.refresh_from_db()
    assert lena.status == Reply.Status.TRASH
    assert top.body == "Text without the phone number." and top.status == Reply.Status.APPROVED
    assert not Reply.objects.filter(external_id="wp:5").exists()
    assert result.get("reply", "deleted here") == 1 and result.get("reply", "created") == 0
    assert result.get("reply", "kept as changed here") == 2 and result.get("reply", "updated") == 0
    # The summary says when it was deleted here.
    assert ("reply 5", "it was deleted here on 2026-11-02; importing does not bring it back") in result.skipped
    thread = Thread.objects.get(key=survey.thread_key)
    assert thread.approved_count == thread.replies.filter(status=Reply.Status.APPROVED).count()
    assert result.get("reply", "unchanged") == 6  # the rest: nine in the file, less those three


def test_dry_run_reports_and_saves_nothing(site):
    before = content_counts()
    result = run_import(EDGE, dry_run=True)
    assert result.dry_run and result.get("report", "created") == 3 and result.get("reply", "created") == 9
    assert content_counts() == before


def test_command_line(site, capsys):
    """``speakout import`` prints a summary; --quiet prints nothing; errors name the problem."""
    call_command("speakout_import", str(EDGE), "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run" in out and "report created: 3" in out
    call_command("speakout_import", str(EDGE), "--quiet")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert ReportPage.objects.count() == 3
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("speakout_import", str(FIXTURES / "missing.xml"), "--quiet")


def test_media_folder_imports_files_and_rewrites_links(site, tmp_path):
    """With --media, attachments found in the folder become images and bodies point at them."""
    from PIL import Image

    uploads = tmp_path / "uploads" / "2023" / "01"
    uploads.mkdir(parents=True)
    Image.new("RGB", (20, 10), (200, 0, 0)).save(uploads / "boiler.png")
    wxr = tmp_path / "media.xml"
    wxr.write_text(
        EDGE.read_text(encoding="utf-8")
        .replace(
            "<item>\n\t<title>Winter heating survey</title>",
            "<item><title>boiler</title><wp:post_id>500</wp:post_id><wp:post_type>attachment</wp:post_type>"
            "<wp:status>inherit</wp:status>"
            "<wp:attachment_url>https://tenants.example.org/wp-content/uploads/2023/01/boiler.png</wp:attachment_url>"
            "</item>\n<item>\n\t<title>Winter heating survey</title>",
        )
        .replace(
            "<h2>What we found</h2>",
            '<p><img src="https://tenants.example.org/wp-content/uploads/2023/01/boiler-300x150.png" '
            'alt="The boiler"></p>'
            "<h2>What we found</h2>",
        ),
        encoding="utf-8",
    )
    result = run_import(wxr, media_dir=tmp_path / "uploads")
    assert result.get("attachment", "created") == 1
    survey = ReportPage.objects.get(title="Winter heating survey")
    images = [block.value for block in survey.body if block.block_type == "image"]
    assert len(images) == 1 and images[0]["alt_text"] == "The boiler"
    assert images[0]["image"].file.name.endswith(".png")
