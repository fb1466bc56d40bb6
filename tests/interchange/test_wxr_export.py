"""The WXR export as WordPress reads it: what each field holds, and what comes back into Speakout."""

from __future__ import annotations

import io

import pytest
from defusedxml.ElementTree import fromstring

from speakout.discussion import services
from speakout.discussion.models import Reply
from speakout.interchange.importers import run_import
from speakout.interchange.wxr_export import export_wxr
from speakout.publishing.discussion import thread_for_report

from .test_export_and_backup import wipe_site

pytestmark = pytest.mark.django_db

WP = "{http://wordpress.org/export/1.2/}"


def add_reply(thread, body: str, *, name: str = "Robin", parent=None, user=None) -> Reply:
    result = services.submit_reply(
        thread=thread,
        data={
            "thread": thread.key,
            "parent": parent.pk if parent else "",
            "name": name,
            "email": f"{name.split()[0].lower()}@example.org",
            "body": body,
        },
        author=services.Author(user=user) if user else services.Author(),
        checks=[],
        check_form_token=False,
    )
    assert result.ok, result.errors
    return result.reply


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
