"""The WXR export as WordPress reads it: what each field holds, and what comes back into Speakout."""

from __future__ import annotations

import io
import json

import pytest
from defusedxml.ElementTree import fromstring

from speakout.discussion.models import Reply
from speakout.interchange.importers import run_import
from speakout.interchange.wxr_export import export_wxr
from speakout.publishing.discussion import thread_for_report
from tests.discussion.helpers import add_reply
from tests.interchange.helpers import reply_state, wipe_site

pytestmark = pytest.mark.django_db

WP = "{http://wordpress.org/export/1.2/}"


def export_text() -> str:
    out = io.StringIO()
    export_wxr(out)
    return out.getvalue()


def comments(text: str) -> dict[str, dict]:
    found = {}
    for comment in fromstring(text.encode()).iter(f"{WP}comment"):
        fields = {child.tag.removeprefix(WP): child.text or "" for child in comment if child.tag != f"{WP}commentmeta"}
        fields["meta"] = {
            meta.findtext(f"{WP}meta_key"): meta.findtext(f"{WP}meta_value") or ""
            for meta in comment.iter(f"{WP}commentmeta")
        }
        found[fields["comment_id"]] = fields
    return found


@pytest.fixture
def thread(site_builder):
    return thread_for_report(site_builder.report("Winter survey"))


def test_a_guest_reply_holding_a_script_is_exported_as_the_text_speakout_shows(thread):
    """WordPress's importer stores comment_content unfiltered and its pages print it as HTML."""
    reply = add_reply(thread, "Look: <script>alert(1)</script> and **Every** [link](https://example.org/)")
    exported = comments(export_text())[str(reply.pk)]
    content = exported["comment_content"]
    assert "<script" not in content and "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<strong>Every</strong>" in content and 'href="https://example.org/"' in content
    assert content == reply.body_html
    assert exported["meta"]["_speakout_source"] == "speakout:" + reply.body


def test_markdown_and_html_come_back_exactly_and_a_second_import_changes_nothing(site_builder, thread, tmp_path):
    """Speakout → WXR → an emptied Speakout: the text as written and the HTML as shown."""
    first = add_reply(thread, "A list:\n\n- *exactly*\n- `code` <b>typed tags</b>\n\n> quoted")
    add_reply(thread, "Reply with a line\nbreak & an ampersand", parent=first, name="Ana & Bo")
    before = sorted(Reply.objects.values_list("author_name", "body", "body_html", "status", "depth"))
    path = tmp_path / "site.xml"
    path.write_text(export_text(), encoding="utf-8")
    wipe_site(site_builder)
    run_import(path)
    assert sorted(Reply.objects.values_list("author_name", "body", "body_html", "status", "depth")) == before
    again = run_import(path)
    assert again.counts.get("reply.updated", 0) == 0 and again.counts.get("reply.created", 0) == 0


def test_a_comment_edited_in_wordpress_keeps_the_edit(site_builder, thread, tmp_path):
    """The source in comment meta belongs to the HTML it was exported with; an edit there wins."""
    reply = add_reply(thread, "Original *text*")
    text = export_text().replace(reply.body_html, "<p>Edited in WordPress</p>")
    path = tmp_path / "edited.xml"
    path.write_text(text, encoding="utf-8")
    wipe_site(site_builder)
    run_import(path)
    imported = Reply.objects.get()
    assert imported.body == "<p>Edited in WordPress</p>"
    assert imported.body_html == "<p>Edited in WordPress</p>"


def test_no_meta_value_looks_like_php_serialized_data(thread):
    """WordPress's importer unserializes meta values that look serialized (an object injection)."""
    reply = add_reply(thread, 'O:8:"stdClass":1:{s:1:"a";s:1:"b";}')
    add_reply(thread, 'a:1:{i:0;s:1:"x";}')
    for exported in comments(export_text()).values():
        for value in exported["meta"].values():
            # WordPress's is_serialized(): the trimmed value's second character is a colon.
            assert value.strip()[1:2] != ":", value
    assert comments(export_text())[str(reply.pk)]["meta"]["_speakout_source"].endswith(reply.body)


# -- a site with every case WordPress's importer is particular about ---------------------------


def items(text: str) -> list:
    return list(fromstring(text.encode()).find("channel").iter("item"))


def meta_of(element, kind: str) -> dict[str, str]:
    return {
        meta.findtext(f"{WP}meta_key"): meta.findtext(f"{WP}meta_value") or ""
        for meta in element.findall(f"{WP}{kind}")
    }


def test_every_parent_comes_before_its_children_in_id_order(every_case):
    """WordPress's importer inserts a post's comments by id and finds only parents already in."""
    (post,) = [item for item in items(export_text()) if item.findtext(f"{WP}post_type") == "post"]
    rows = sorted(
        (int(c.findtext(f"{WP}comment_id")), int(c.findtext(f"{WP}comment_parent")), c.findtext(f"{WP}comment_author"))
        for c in post.iter(f"{WP}comment")
    )
    inserted = set()
    for number, parent, _name in rows:
        assert parent == 0 or parent in inserted, f"comment {number} comes before its parent {parent}"
        inserted.add(number)
    by_name = {name: (number, parent) for number, parent, name in rows}
    assert by_name["Early"][1] == by_name["Parent"][0]
    assert by_name["Answer"][1] == by_name["Early"][0]
    assert by_name["Early"][0] > by_name["Parent"][0]
    # Everyone else keeps their own id.
    assert by_name["Parent"][0] == every_case["parent"].pk


def test_signed_in_replies_name_an_author_of_the_file(every_case):
    """comment_user_id is an author id of the file (WordPress maps only those) or 0."""
    text = export_text()
    authors = {
        a.findtext(f"{WP}author_id"): (a.findtext(f"{WP}author_login"), a.findtext(f"{WP}author_email"))
        for a in fromstring(text.encode()).iter(f"{WP}author")
    }
    assert len(authors) == 4  # two bylines, two accounts
    for comment in comments(text).values():
        user_id = comment["comment_user_id"]
        assert user_id == "0" or user_id in authors
        if comment["comment_id"] == str(every_case["signed"].pk):
            assert authors[user_id] == ("maria", "maria@example.org")
        else:
            assert user_id == "0"


def test_co_authors_and_page_authors_are_in_the_file(every_case):
    exported = {item.findtext(f"{WP}post_type"): item for item in items(export_text())}
    post, page = exported["post"], exported["page"]
    assert post.findtext("{http://purl.org/dc/elements/1.1/}creator") == "ana-diaz"
    assert json.loads(meta_of(post, "postmeta")["_speakout_authors"]) == [
        ["ana-diaz", "Ana Díaz"],
        ["bo-chen", "Bo Chen"],
    ]
    assert page.findtext("{http://purl.org/dc/elements/1.1/}creator") == "root"


def test_replies_in_the_trash_or_spam_carry_what_restore_needs(every_case):
    """WordPress's Restore and Not Spam put a comment back to _wp_trash_meta_status: the status
    the moderation log shows before the move (held when it shows none)."""
    by_name = {c["comment_author"]: c for c in comments(export_text()).values()}
    trashed, spam = by_name["Trashed"], by_name["Spam"]
    assert trashed["comment_approved"] == "trash" and trashed["meta"]["_wp_trash_meta_status"] == "1"
    assert spam["comment_approved"] == "spam" and spam["meta"]["_wp_trash_meta_status"] == "0"
    assert int(trashed["meta"]["_wp_trash_meta_time"]) > 0
    assert "_wp_trash_meta_status" not in by_name["Held"]["meta"]


def test_the_export_report_says_what_wordpress_refuses(every_case, tmp_path, admin_client, client):
    """Printed by `speakout export` and shown on the admin's Export screen."""
    from django.core.management import call_command

    err = io.StringIO()
    call_command("speakout_export", "--format", "wxr", "--output", str(tmp_path / "x.xml"), stderr=err)
    printed = err.getvalue()
    assert "Replies: 8" in printed
    assert "root@localhost" in printed and "admin@localhost" in printed
    assert "Posts (reports): 1" in printed and "Pages: 1" in printed
    # The screen shows the report of a check the worker makes on request (here at once: the
    # test settings run tasks immediately).
    assert "Replies: 8" not in admin_client.get("/admin/export/").content.decode()
    assert admin_client.post("/admin/export/").status_code == 302
    page = admin_client.get("/admin/export/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "root@localhost" in html and "Replies: 8" in html
    download = admin_client.get("/admin/export/wxr/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).count(b"<wp:comment>") == 8
    assert "attachment" in download["Content-Disposition"]


def test_only_superusers_may_export(every_case, client):
    from tests.interchange.helpers import sign_in_as_editor

    sign_in_as_editor(client, every_case["staff"])
    assert client.get("/admin/export/").status_code in (302, 403)
    assert client.get("/admin/export/wxr/").status_code in (302, 403)


def test_round_trip_keeps_every_reply_parent_status_author_date_and_text(site_builder, every_case, tmp_path):
    """Speakout → WXR → an emptied Speakout."""

    before = reply_state()
    bylines = [a.author.name for a in every_case["report"].report_authors.all()]
    path = tmp_path / "site.xml"
    path.write_text(export_text(), encoding="utf-8")
    wipe_site(site_builder)
    result = run_import(path)
    assert not result.skipped
    assert reply_state() == before
    from speakout.publishing.models import ReportPage

    report = ReportPage.objects.get(title="Co-written")
    assert [a.author.name for a in report.report_authors.all()] == bylines
