"""The fast paths of a large import: pages added without treebeard's per-page lookups, replies
inserted in bulk, counts made once. They must give the same site as the slow paths would, and
the number of queries must not grow with the number of replies."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from speakout.discussion.models import Commenter, Reply, Thread
from speakout.interchange.importers import run_import
from speakout.publishing.models import ReportPage

STATUSES = ["1", "1", "1", "0", "spam", "trash"]


def generated_wxr(path, posts: int, replies: int, seed: int = 6) -> None:
    """A WordPress export with threaded replies (children often with lower ids than their
    parents) from a few commenters who reply under many posts."""
    rng = random.Random(seed)
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n'
        "<channel><title>Generated</title><link>https://gen.example.org</link>"
        "<wp:wxr_version>1.2</wp:wxr_version>\n"
        "<wp:author><wp:author_login>ed</wp:author_login><wp:author_display_name>Ed</wp:author_display_name>"
        "</wp:author>\n<wp:category><wp:category_nicename>news</wp:category_nicename>"
        "<wp:cat_name>News</wp:cat_name></wp:category>\n"
    ]
    next_id = 1
    for post in range(1, posts + 1):
        parts.append(
            f"<item><title>Post {post}</title><link>https://gen.example.org/2021/05/0{1 + post % 9}/post-{post}/</link>"
            "<dc:creator>ed</dc:creator><content:encoded><![CDATA[Hello <strong>there</strong>.\n\nMore.]]>"
            f"</content:encoded><wp:post_id>{post}</wp:post_id>"
            "<wp:post_date_gmt>2021-05-01 10:00:00</wp:post_date_gmt>"
            f"<wp:post_name>post-{post}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
            '<category domain="category" nicename="news"><![CDATA[News]]></category>\n'
        )
        ids = list(range(next_id, next_id + replies))
        next_id += replies
        rng.shuffle(ids)
        for number, own in enumerate(ids):
            parent = 0 if number % 3 == 0 else ids[rng.randrange(number)]
            parts.append(
                f"<wp:comment><wp:comment_id>{own}</wp:comment_id>"
                f"<wp:comment_author>Reader {own % 7}</wp:comment_author>"
                f"<wp:comment_author_email>reader{own % 7}@example.org</wp:comment_author_email>"
                f"<wp:comment_date_gmt>2021-05-02 12:{number % 60:02d}:00</wp:comment_date_gmt>"
                f"<wp:comment_content><![CDATA[Reply {own}.\n\nWith <em>a</em> <div>block</div>.]]>"
                f"</wp:comment_content><wp:comment_approved>{rng.choice(STATUSES)}</wp:comment_approved>"
                f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n"
            )
        parts.append("</item>\n")
    parts.append("</channel></rss>\n")
    path.write_text("".join(parts), encoding="utf-8")


@pytest.fixture
def generated(site, tmp_path):
    path = tmp_path / "generated.xml"
    generated_wxr(path, posts=6, replies=30)
    return path


def test_pages_are_a_valid_tree(generated):
    """Pages added by path arithmetic have the paths, depths, child counts and url paths that
    treebeard and Wagtail would give them, and come after pages already there."""
    index = Page.objects.get(slug="reports")
    before = index.get_children().count()
    run_import(generated)
    index.refresh_from_db()
    children = list(index.get_children())
    assert index.numchild == len(children) == before + 6
    paths = [child.path for child in children]
    assert paths == sorted(paths) and len(set(paths)) == len(paths)
    for child in children:
        assert child.depth == index.depth + 1 and child.path.startswith(index.path)
        assert child.url_path == f"{index.url_path}{child.slug}/"
        assert child.locale_id == index.locale_id and child.draft_title == child.title
    assert Page.find_problems() == ([], [], [], [], [])
    report = ReportPage.objects.get(title="Post 3")
    assert [c.slug for c in report.categories.all()] == ["news"]
    assert [a.slug for a in report.authors] == ["ed"]


def test_replies_counts_and_tree(generated):
    """Bulk-inserted replies carry their tree and statuses; thread and commenter counts are the
    counts of the stored approved replies."""
    run_import(generated)
    assert Reply.objects.count() == 6 * 30
    for reply in Reply.objects.select_related("parent"):
        if reply.parent is None:
            assert reply.depth == 0
        else:
            assert reply.depth == reply.parent.depth + 1 and reply.path.startswith(reply.parent.path)
            assert reply.thread_id == reply.parent.thread_id
        assert reply.body_html.startswith("<p>") and "<div>" not in reply.body_html
    approved = Counter(Reply.objects.filter(status=Reply.Status.APPROVED).values_list("thread_id", flat=True))
    for thread in Thread.objects.all():
        assert thread.approved_count == approved[thread.pk]
    by_commenter = Counter(Reply.objects.filter(status=Reply.Status.APPROVED).values_list("commenter_id", flat=True))
    assert Commenter.objects.count() == 7
    for commenter in Commenter.objects.all():
        assert commenter.approved_count == by_commenter[commenter.pk] > 0


def test_queries_do_not_grow_with_replies(site, tmp_path):
    """A post's queries are the same whether it has 5 replies or 60: replies go in batches."""
    counts = []
    for replies in (5, 60):
        path = tmp_path / f"r{replies}.xml"
        generated_wxr(path, posts=4, replies=replies, seed=replies)
        with CaptureQueriesContext(connection) as captured:
            run_import(path)
        counts.append(len(captured))
        ReportPage.objects.all().delete()
    assert counts[1] <= counts[0] + 4, counts


def test_second_import_writes_nothing(generated):
    """Importing the same file again reads and compares, and writes no content row (only the
    records of the one author and the one category are stamped as seen again)."""
    run_import(generated)
    with CaptureQueriesContext(connection) as captured:
        again = run_import(generated)
    writes = [q["sql"] for q in captured if q["sql"].split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE")]
    assert again.get("report", "unchanged") == 6 and again.get("reply", "unchanged") == 180
    records = [sql for sql in writes if sql.startswith('UPDATE "speakout_interchange_importeditem"')]
    assert len(records) == 2
    assert [sql for sql in writes if sql not in records] == []
