"""Speakout's WXR export against real WordPress: Debian's `wordpress` package (6.1), its PHP CLI
and a throwaway MariaDB database.

WordPress's importer plugin (wordpress-importer) is not in any registry this project installs from
(Debian, PyPI, npm), so the file is not read by the import screen here. Instead ``wordpress.php``
inserts the file's fields with WordPress's own functions, as given, in the order WordPress's
importer uses (a post's comments by id), refusing a parent or user id it has not created rather
than guessing. What is then WordPress's own doing, and checked: how it stores and shows every
field (its display filters, the threaded comment list, its escaping of names), what its Restore
and Not spam do with the trash meta, which addresses its ``is_email`` refuses, and its own export,
which goes back into Speakout.
"""

from __future__ import annotations

import html
import io
import json
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from defusedxml.ElementTree import fromstring

from speakout.discussion.models import Commenter, Reply
from speakout.interchange.export_report import wordpress_accepts_email
from speakout.interchange.importers import run_import
from speakout.interchange.wxr_export import export_wxr
from speakout.publishing.discussion import thread_for_report
from speakout.publishing.models import ReportPage
from tests.discussion.helpers import add_reply
from tests.interchange.helpers import reply_state, wipe_site
from tests.security import corpus
from tests.security.executable import assert_no_live_payload
from tests.wordpress.site import CORE, PHP, WordPress  # noqa: F401  (CORE, PHP: used below)

pytestmark = pytest.mark.django_db

WP = "{http://wordpress.org/export/1.2/}"


@pytest.fixture
def wordpress(tmp_path):
    site = WordPress(tmp_path)
    try:
        site.run("install")
        yield site
    finally:
        site.drop()


def file_for_wordpress(text: str) -> dict:
    """The WXR file's fields, as they are written, for wordpress.php's `load`."""

    def fields(element, names):
        return {name: element.findtext(f"{WP}{name}") or "" for name in names}

    def meta(element, kind):
        return {
            m.findtext(f"{WP}meta_key"): m.findtext(f"{WP}meta_value") or "" for m in element.findall(f"{WP}{kind}")
        }

    channel = fromstring(text.encode()).find("channel")
    authors = [
        {
            "id": int(author.findtext(f"{WP}author_id")),
            "login": author.findtext(f"{WP}author_login") or "",
            "email": author.findtext(f"{WP}author_email") or "",
            "display_name": author.findtext(f"{WP}author_display_name") or "",
        }
        for author in channel.findall(f"{WP}author")
    ]
    posts = []
    for item in channel.findall("item"):
        comments = {}
        for comment in item.findall(f"{WP}comment"):
            row = fields(comment, ["comment_id", "comment_author", "comment_author_email", "comment_author_url"])
            row.update(fields(comment, ["comment_date", "comment_date_gmt", "comment_content", "comment_approved"]))
            row.update(fields(comment, ["comment_type", "comment_parent", "comment_user_id"]))
            comments[row["comment_id"]] = {
                "author": row["comment_author"],
                "author_email": row["comment_author_email"],
                "author_url": row["comment_author_url"],
                "date": row["comment_date"],
                "date_gmt": row["comment_date_gmt"],
                "content": row["comment_content"],
                "approved": row["comment_approved"],
                "type": row["comment_type"],
                "parent": row["comment_parent"],
                "user_id": row["comment_user_id"],
                "meta": meta(comment, "commentmeta"),
            }
        post = fields(item, ["post_id", "post_name", "status", "post_type", "post_date", "post_date_gmt"])
        posts.append(
            {
                "id": post["post_id"],
                "title": item.findtext("title") or "",
                "content": item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or "",
                "excerpt": item.findtext("{http://wordpress.org/export/1.2/excerpt/}encoded") or "",
                "name": post["post_name"],
                "status": post["status"],
                "type": post["post_type"],
                "creator": item.findtext("{http://purl.org/dc/elements/1.1/}creator") or "",
                "date": post["post_date"],
                "date_gmt": post["post_date_gmt"],
                "comment_status": item.findtext(f"{WP}comment_status") or "open",
                "meta": meta(item, "postmeta"),
                "comments": comments,
            }
        )
    return {"authors": authors, "posts": posts}


def hostile_additions(site_builder) -> None:
    """A report whose title, standfirst, body, byline and replies hold the security corpus."""
    byline = site_builder.author("Hostile byline")
    byline.name = "<script>alert(1)</script>"
    byline.save()
    report = site_builder.report('"><img src=x onerror=alert(2)>', standfirst="<svg onload=alert(3)>", authors=[byline])
    thread = thread_for_report(report)
    cases = [(body, f"Guest {number}") for number, body in enumerate(corpus.MARKUP + corpus.MARKDOWN[:4])]
    cases += [("A hostile name.", name) for name in corpus.NAMES]
    for body, name in cases:
        # Whatever the reply form refuses is not in the site (the hostile-input suite checks that).
        add_reply(thread, body, name=name, email="guest@example.org", required=False)


def test_wordpress_stores_and_shows_the_export_faithfully_and_its_own_export_comes_back(
    site_builder, every_case, wordpress, tmp_path
):
    hostile_additions(site_builder)
    out = io.StringIO()
    writer = export_wxr(out)
    text = out.getvalue()
    assert writer.report.counts["renumbered"] == 2  # the reply stored before its parent, and its answer
    load = file_for_wordpress(text)
    (tmp_path / "load.json").write_text(json.dumps(load), encoding="utf-8")
    created = wordpress.run("load", str(tmp_path / "load.json"))

    # Every field as WordPress stored it.
    replies = {str(writer.comment_numbers.get(reply.pk, reply.pk)): reply for reply in Reply.objects.all()}
    rows = {str(row["comment_ID"]): row for row in wordpress.run("comments")}
    assert len(rows) == len(replies)
    new_to_old = {str(new): old for old, new in created["comments"].items()}
    logins = {str(author["id"]): author["login"] for author in load["authors"]}
    exported = {cid: c for post in load["posts"] for cid, c in post["comments"].items()}
    for new_id, row in rows.items():
        old = new_to_old[new_id]
        reply, sent = replies[old], exported[old]
        assert html.unescape(row["comment_author"]) == reply.author_name
        assert row["comment_author"] == sent["author"]
        assert row["comment_author_email"] == (reply.commenter.email if reply.commenter else "")
        assert row["comment_author_url"] == reply.author_website
        assert (row["comment_date"], row["comment_date_gmt"]) == (sent["date"], sent["date_gmt"])
        assert row["comment_content"] == reply.body_html
        assert row["comment_approved"] == sent["approved"]
        assert row["comment_type"] == sent["type"]
        parent_old = sent["parent"]
        assert str(row["comment_parent"]) == (str(created["comments"][parent_old]) if parent_old != "0" else "0")
        assert row["user_login"] == (logins[sent["user_id"]] if sent["user_id"] != "0" else "")
        assert row["meta"]["_speakout_source"] == "speakout:" + reply.body
        if reply.status in (Reply.Status.TRASH, Reply.Status.SPAM):
            assert row["meta"]["_wp_trash_meta_status"] in ("0", "1")
    signed = every_case["signed"]
    assert rows[str(created["comments"][str(signed.pk)])]["user_login"] == "maria"

    # What WordPress shows: no live script anywhere, and the threads as in Speakout.
    for post in load["posts"]:
        page = wordpress.run("render", str(created["posts"][post["id"]]))
        for part in ("title", "content", "excerpt", "author", "comments"):
            assert_no_live_payload(page[part], f"WordPress's {part} of {post['title']!r}")
        soup = BeautifulSoup(page["comments"], "html.parser")
        shown = {li["id"].removeprefix("comment-"): li for li in soup.find_all("li", id=True)}
        approved = {old: c for old, c in post["comments"].items() if c["approved"] == "1"}
        assert len(shown) == len(approved), post["title"]
        for old, comment in approved.items():
            item = shown[str(created["comments"][old])]
            parent_item = item.find_parent("li")
            if comment["parent"] != "0" and comment["parent"] in approved:
                assert (
                    parent_item is not None and parent_item["id"] == f"comment-{created['comments'][comment['parent']]}"
                )
            elif comment["parent"] == "0":
                assert parent_item is None
            assert item.find(class_="fn").get_text() == replies[old].author_name
    report_page = wordpress.run("render", str(created["posts"][str(every_case["report"].pk)]))
    assert (
        report_page["comment_count"]
        == Reply.objects.filter(thread__key=every_case["report"].thread_key, status=Reply.Status.APPROVED).count()
    )

    # WordPress's own export of that site, back into an emptied Speakout.
    wordpress_export = tmp_path / "from-wordpress.xml"
    wordpress_export.write_text(wordpress.raw("export"), encoding="utf-8")
    before = reply_state(without_spam=True)
    bylines = [a.author.name for a in every_case["report"].report_authors.all()]
    wipe_site(site_builder)
    Commenter.objects.all().delete()
    result = run_import(wordpress_export)
    assert not [why for _what, why in result.skipped if "post type" not in why]
    # WordPress's exporter leaves spam out; every other reply comes back as it was.
    assert reply_state() == before
    report = ReportPage.objects.get(title="Co-written")
    assert [a.author.name for a in report.report_authors.all()] == bylines

    # Restore and Not spam in WordPress put the replies back where they were.
    moved = {
        str(created["comments"][str(writer.comment_numbers.get(r.pk, r.pk))]): r
        for r in (every_case["trashed"], every_case["spam"])
    }
    assert wordpress.run("restore", ",".join(moved)) == {
        new_id: "1" if r.author_name == "Trashed" else "0" for new_id, r in moved.items()
    }


def test_the_report_knows_which_addresses_wordpress_refuses(tmp_path, wordpress):
    addresses = [a for a in corpus.EMAILS if "\x00" not in a] + [
        "admin@localhost",
        "root@localhost.localdomain",
        "robin@example.org\n",
        "a@b.c",
        "ab@c.d",
        "robin@-example.org",
        "robin@example..org",
        "robin@.example.org",
        "robin@münchen.de",
        "robin@xn--mnchen-3ya.de",
        "o'brien@example.ie",
    ]
    path = tmp_path / "addresses.json"
    path.write_text(json.dumps(addresses), encoding="utf-8")
    answers = wordpress.run("is_email", str(path))
    assert [(address, wordpress_accepts_email(address)) for address in addresses] == [tuple(a) for a in answers]
    assert shutil.which(PHP) or Path(PHP).exists()
