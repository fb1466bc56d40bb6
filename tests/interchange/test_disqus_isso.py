"""Disqus and Isso archives: threads matched by address, parents kept, statuses kept."""

from __future__ import annotations

import sqlite3
from collections import Counter

from speakout.discussion.models import Reply, Thread
from speakout.interchange.importers import run_import
from speakout.publishing.models import ReportPage
from tests.interchange.helpers import FIXTURES, ISSO_SCHEMA, TESTDATA, content_counts


def test_disqus_reply_before_its_parent_and_statuses(site):
    """A Disqus post listed before its parent still nests under it; deleted and spam posts keep
    their status; a thread for an imported page joins it, another stays external."""
    run_import(FIXTURES / "edge-cases.xml")
    result = run_import(FIXTURES / "disqus-out-of-order.xml")
    assert result.format == "disqus"
    survey = ReportPage.objects.get(title="Winter heating survey")
    replies = {
        r.external_id: r for r in Reply.objects.filter(thread__key=survey.thread_key, external_id__startswith="disqus:")
    }
    assert replies["disqus:902"].parent_id == replies["disqus:901"].pk
    assert replies["disqus:903"].parent_id == replies["disqus:902"].pk and replies["disqus:903"].depth == 2
    assert replies["disqus:903"].status == Reply.Status.TRASH
    assert replies["disqus:904"].status == Reply.Status.SPAM
    external = Thread.objects.get(key="disqus-71")
    assert external.url == "https://campaign.example.com/petition/"
    assert external.replies.count() == 1
    assert any("999" in what for what, _why in result.skipped)
    before = content_counts()
    run_import(FIXTURES / "disqus-out-of-order.xml")
    assert content_counts() == before


def test_disqus_testdata(site):
    result = run_import(TESTDATA / "isso" / "disqus.xml")
    assert Counter(Reply.objects.values_list("status", flat=True)) == result.replies_by_status
    assert Reply.objects.count() == 5


def test_isso_json(site):
    result = run_import(TESTDATA / "isso" / "generic.json")
    assert result.format == "isso-json"
    assert Thread.objects.filter(key__startswith="isso:").count() == 2
    assert Reply.objects.filter(status=Reply.Status.APPROVED).count() == 2


def test_isso_sqlite_database(site, tmp_path):
    """Isso's own database: threads by URI, replies with parents, modes mapped to statuses."""
    path = tmp_path / "comments.db"
    db = sqlite3.connect(path)
    db.executescript(
        ISSO_SCHEMA
        + """
        INSERT INTO threads VALUES (1, '/rent-strike/', 'Rent strike');
        INSERT INTO comments (tid, id, parent, created, mode, text, author, email)
            VALUES (1, 1, NULL, 1700000000, 1, 'We are *in*.', 'Ana', 'ana@example.net'),
                   (1, 2, 1, 1700000100, 2, 'Me too', 'Joe', ''),
                   (1, 3, 2, 1700000200, 4, 'deleted', '', '');
        """
    )
    db.commit()
    db.close()
    result = run_import(path)
    assert result.format == "isso"
    thread = Thread.objects.get(key="isso:/rent-strike/")
    replies = {r.external_id: r for r in thread.replies.all()}
    assert replies["isso:1"].body_html == "<p>We are <em>in</em>.</p>"
    assert replies["isso:2"].parent_id == replies["isso:1"].pk and replies["isso:2"].status == "pending"
    assert replies["isso:3"].status == "trash" and replies["isso:3"].depth == 2
