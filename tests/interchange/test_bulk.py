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


def batched_wxr(path) -> None:
    """Reports with replies and tags, a password-protected report, and pages nested three deep
    (each parent before its child), so batches split and share parents in every way."""
    items = []
    next_id = 1
    for post in range(1, 8):
        comments = []
        for number in range(4):
            parent = next_id - 1 if number % 2 else 0
            comments.append(
                f"<wp:comment><wp:comment_id>{next_id}</wp:comment_id>"
                f"<wp:comment_author>Reader {next_id % 3}</wp:comment_author>"
                f"<wp:comment_author_email>reader{next_id % 3}@example.org</wp:comment_author_email>"
                f"<wp:comment_content><![CDATA[Reply {next_id}.]]></wp:comment_content>"
                f"<wp:comment_approved>{'1' if next_id % 4 else '0'}</wp:comment_approved>"
                f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
            )
            next_id += 1
        password = "<wp:post_password>secret</wp:post_password>" if post == 4 else ""
        items.append(
            f"<item><title>Post {post}</title><link>https://b.example.org/2021/05/post-{post}/</link>"
            f"<dc:creator>ed</dc:creator><content:encoded><![CDATA[Text {post}.]]></content:encoded>"
            f"<wp:post_id>{post}</wp:post_id><wp:post_date_gmt>2021-05-01 10:00:00</wp:post_date_gmt>"
            f"<wp:post_name>post-{post}</wp:post_name><wp:status>publish</wp:status>{password}"
            "<wp:post_type>post</wp:post_type>"
            '<category domain="category" nicename="news"><![CDATA[News]]></category>'
            f'<category domain="post_tag" nicename="t{post % 2}"><![CDATA[T{post % 2}]]></category>'
            + "".join(comments)
            + "</item>\n"
        )
        if post in (2, 3, 5):  # pages between posts: parent, child, grandchild
            page = {2: 101, 3: 102, 5: 103}[post]
            items.append(
                f"<item><title>Page {page}</title><wp:post_id>{page}</wp:post_id>"
                f"<wp:post_name>page-{page}</wp:post_name><wp:status>publish</wp:status>"
                f"<wp:post_type>page</wp:post_type><wp:post_parent>{page - 1 if page > 101 else 0}</wp:post_parent>"
                "</item>\n"
            )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n'
        "<channel><title>Batches</title><link>https://b.example.org</link><wp:wxr_version>1.2</wp:wxr_version>\n"
        + "".join(items)
        + "</channel></rss>\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize("posts, replies", [(1, 1), (2, 5), (3, 1000), (100, 5000)])
def test_batch_size_does_not_change_the_site(site, tmp_path, monkeypatch, posts, replies):
    """New posts are written a batch at a time; wherever a batch ends (after every post, between
    a parent page and its child, in the middle of the replies), the site is the same: a valid
    tree, one creation log entry, import record and thread per page, tags, redirects, the
    password's restriction and private thread, counts and a second import that changes nothing."""
    from wagtail.contrib.redirects.models import Redirect
    from wagtail.models import PageLogEntry, PageViewRestriction

    from speakout.interchange import writer
    from speakout.interchange.models import ImportedItem
    from speakout.publishing.models import StandardPage

    monkeypatch.setattr(writer, "POST_BATCH", posts)
    monkeypatch.setattr(writer, "REPLY_BATCH", replies)
    path = tmp_path / "batches.xml"
    batched_wxr(path)
    result = run_import(path)
    assert result.get("report", "created") == 7 and result.get("page", "created") == 3
    assert Page.find_problems() == ([], [], [], [], [])
    page_101, page_102, page_103 = (StandardPage.objects.get(title=f"Page {n}") for n in (101, 102, 103))
    assert page_102.get_parent().pk == page_101.pk and page_103.get_parent().pk == page_102.pk
    assert page_103.url_path == f"{page_101.url_path}page-102/page-103/"
    for page in Page.objects.filter(depth__gte=site.home.depth):
        assert page.numchild == page.get_children().count()
    reports = list(ReportPage.objects.order_by("title"))
    new_pages = [*reports, page_101, page_102, page_103]
    for page in new_pages:
        entries = PageLogEntry.objects.filter(page=page).exclude(action="wagtail.view_restriction.create")
        assert [(e.action, e.content_type.model_class()) for e in entries] == [("wagtail.create", type(page))]
        assert ImportedItem.objects.filter(object_id=str(page.pk)).count() == 1
    assert Reply.objects.count() == 28
    for report in reports:
        thread = Thread.objects.get(key=report.thread_key)
        stored = Reply.objects.filter(thread=thread)
        assert thread.approved_count == stored.filter(status=Reply.Status.APPROVED).count() > 0
        assert stored.count() == 4 and thread.opened_at == report.first_published_at
        assert thread.is_public == (report.title != "Post 4")
        assert [t.name for t in report.tags.all()] == [f"T{int(report.title[-1]) % 2}"]
        assert [c.slug for c in report.categories.all()] == ["news"] and [a.slug for a in report.authors] == ["ed"]
        assert Redirect.objects.filter(redirect_page=report).count() == 3
    for reply in Reply.objects.exclude(parent=None).select_related("parent"):
        assert reply.path.startswith(reply.parent.path) and reply.depth == reply.parent.depth + 1
    assert PageViewRestriction.objects.get().page.specific.title == "Post 4"
    by_commenter = Counter(Reply.objects.filter(status=Reply.Status.APPROVED).values_list("commenter_id", flat=True))
    assert {c.pk: c.approved_count for c in Commenter.objects.all()} == dict(by_commenter)
    before = (Page.objects.count(), Reply.objects.count(), Thread.objects.count(), Redirect.objects.count())
    again = run_import(path)
    assert again.get("report", "unchanged") == 7 and again.get("reply", "unchanged") == 28
    assert (Page.objects.count(), Reply.objects.count(), Thread.objects.count(), Redirect.objects.count()) == before


def test_reply_text_is_stored_exactly(site, tmp_path):
    """Replies keep every character: on PostgreSQL they go through COPY, whose text format gives
    tabs, backslashes and line ends a meaning of their own."""
    body = "Tab\there, back\\slash, \\N and \\t as text,\nnew line, quote ' \" and ünïcödé ✊"
    path = tmp_path / "exact.xml"
    generated_wxr(path, posts=1, replies=2)
    text = path.read_text(encoding="utf-8")
    text = text.replace("<![CDATA[Reply 1.", f"<![CDATA[{body}", 1).replace("Reader 1<", "Reader\\\tone<", 1)
    path.write_text(text, encoding="utf-8")
    run_import(path)
    reply = Reply.objects.get(external_id="wp:1")
    assert reply.body.startswith(body) and reply.author_name == "Reader\\\tone"
    assert reply.author_website == "" and reply.submission_id is None and reply.edited_at is None
    assert reply.created_at.year == 2021


def test_new_pages_are_indexed(generated):
    """The pages an import adds are in the search index and the reference index (one task per
    batch does what Wagtail's two tasks per saved page did)."""
    from wagtail.models import ReferenceIndex

    from speakout.publishing.models import Author

    run_import(generated)
    assert [page.title for page in ReportPage.objects.search("Post 3")][:1] == ["Post 3"]
    byline = Author.objects.get(slug="ed")
    referring = {ref.object_id for ref in ReferenceIndex.get_references_to(byline)}
    assert referring == {str(pk) for pk in ReportPage.objects.values_list("pk", flat=True)}


def test_reports_index_made_after_pages(site, tmp_path):
    """Without a reports index, the first post makes one under the home page; pages imported
    before it under the home page keep their places, and later pages come after it."""
    site.index.delete()
    path = tmp_path / "pages-first.xml"
    batched_wxr(path)
    text = path.read_text(encoding="utf-8")
    first_post = text.index("<item><title>Post 1")
    pages = "".join(
        f"<item><title>Early {n}</title><wp:post_id>{200 + n}</wp:post_id><wp:status>publish</wp:status>"
        "<wp:post_type>page</wp:post_type></item>\n"
        for n in range(3)
    )
    path.write_text(text[:first_post] + pages + text[first_post:], encoding="utf-8")
    run_import(path)
    assert Page.find_problems() == ([], [], [], [], [])
    home = Page.objects.get(pk=site.home.pk)
    children = [page.title for page in home.get_children()]
    assert children == ["Early 0", "Early 1", "Early 2", "Reports", "Page 101"]
    assert home.numchild == 5 and ReportPage.objects.count() == 7
