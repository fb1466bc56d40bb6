"""Threads read back in order, nested to the display depth, paged by top-level reply, with a
constant number of queries however many replies there are."""

import re
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from speakout.discussion.models import Reply, path_segment
from speakout.discussion.reading import load_thread_page
from speakout.discussion.services import Author, set_status, submit_reply
from tests.discussion.helpers import form_data

pytestmark = pytest.mark.django_db

NO_CHECKS: list = []


def add(thread, body, parent=None, name="Robin", author=None):
    data = form_data(thread, body=body, name=name, parent=parent.pk if parent else "")
    author = author or Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)
    result = submit_reply(thread=thread, data=data, author=author, checks=NO_CHECKS)
    assert result.ok, result.errors
    return result.reply


def text(node):
    return re.sub(r"<[^>]+>", "", node.reply.body_html)


def bodies(page):
    return [(text(node), node.display_depth) for node in page.nodes]


def test_replies_nest_in_reading_order(thread, rules):
    first = add(thread, "first")
    add(thread, "second")
    answer = add(thread, "answer to first", parent=first)
    add(thread, "answer to answer", parent=answer)
    thread.refresh_from_db()

    page = load_thread_page(thread, rules=rules)

    assert bodies(page) == [("first", 0), ("answer to first", 1), ("answer to answer", 2), ("second", 0)]
    assert page.count == 4


def test_newest_first_reverses_top_level_only(thread, rules):
    first = add(thread, "first")
    add(thread, "second")
    add(thread, "child of first", parent=first)

    page = load_thread_page(thread, rules=rules, newest_first=True)

    assert bodies(page) == [("second", 0), ("first", 0), ("child of first", 1)]


def test_deeper_replies_show_at_the_deepest_level_with_in_reply_to(thread, rules):
    rules.max_depth = 3
    parent = add(thread, "level 0", name="N0")
    for level in range(1, 6):
        parent = add(thread, f"level {level}", parent=parent, name=f"N{level}")

    page = load_thread_page(thread, rules=rules)

    assert [node.display_depth for node in page.nodes] == [0, 1, 2, 2, 2, 2]
    assert [node.in_reply_to for node in page.nodes] == ["", "", "", "N2", "N3", "N4"]
    assert parent.depth == 5, "the true depth is stored"


def test_any_depth_is_stored(thread, rules):
    parent = add(thread, "root")
    for level in range(1, 230):
        parent = add(thread, f"deep {level}", parent=parent)
    assert parent.depth == 229
    page = load_thread_page(thread, rules=rules)
    assert len(page.nodes) == 230 and text(page.nodes[-1]) == "deep 229"


def test_reply_whose_parent_is_removed_stays_in_the_thread(thread, rules):
    root = add(thread, "root")
    middle = add(thread, "middle", parent=root)
    add(thread, "leaf", parent=middle)
    set_status(middle, Reply.Status.TRASH)

    page = load_thread_page(thread, rules=rules)

    assert bodies(page) == [("root", 0), ("leaf", 1)]


def test_paging_by_top_level_reply_keeps_subtrees_together(thread, rules):
    rules.replies_per_page = 2
    roots = [add(thread, f"root {n}") for n in range(5)]
    add(thread, "child of root 1", parent=roots[1])
    add(thread, "child of root 2", parent=roots[2])

    first = load_thread_page(thread, rules=rules, page_number=1)
    second = load_thread_page(thread, rules=rules, page_number=2)
    third = load_thread_page(thread, rules=rules, page_number=3)

    assert bodies(first) == [("root 0", 0), ("root 1", 0), ("child of root 1", 1)]
    assert bodies(second) == [("root 2", 0), ("child of root 2", 1), ("root 3", 0)]
    assert bodies(third) == [("root 4", 0)]
    assert first.page_count == 3


def test_nesting_markup_is_balanced(thread, rules):
    a = add(thread, "a")
    b = add(thread, "b", parent=a)
    add(thread, "c", parent=b)
    add(thread, "d")
    page = load_thread_page(thread, rules=rules)
    markup = "".join(f"{node.before}<li>" for node in page.nodes) + page.closing_tags
    assert markup.count("<ol") == markup.count("</ol>")
    assert markup.count("<li>") == markup.count("</li>")


def count_report_page_queries(client, site_builder, replies):
    from speakout.publishing.discussion import thread_for_report

    report = site_builder.report(f"Report with {replies}")
    thread = thread_for_report(report)
    Reply.objects.bulk_create(
        Reply(
            thread=thread,
            author_name=f"Reader {n}",
            body=f"Reply {n}",
            body_html=f"<p>Reply {n}</p>",
            status=Reply.Status.APPROVED,
        )
        for n in range(replies)
    )
    for reply_id in Reply.objects.filter(thread=thread).values_list("pk", flat=True):
        Reply.objects.filter(pk=reply_id).update(path=path_segment(reply_id))
    thread.refresh_approved_count()
    client.get(report.url)  # warm caches of site and page lookups
    cache.clear()  # but not the reply list: this measures reading the thread itself
    with CaptureQueriesContext(connection) as queries:
        response = client.get(report.url)
    assert response.status_code == 200
    shown = len(re.findall(r'class="reply"', response.content.decode()))
    return len(queries), shown


def test_report_page_query_count_does_not_grow_with_replies(client, site_builder, rules):
    rules.replies_per_page = 1000
    rules.save()
    small_queries, small_shown = count_report_page_queries(client, site_builder, 10)
    large_queries, large_shown = count_report_page_queries(client, site_builder, 500)

    assert (small_shown, large_shown) == (10, 500)
    assert small_queries == large_queries


def test_cached_reply_list_follows_every_visible_change(client, site_builder, rules):
    """Anonymous readers get the reply list from a cache keyed by the thread's version, so an
    approval, an edit or a removal shows on the very next request."""
    from speakout.publishing.discussion import thread_for_report

    report = site_builder.report("Cached discussion")
    thread = thread_for_report(report)
    first = add(thread, "first words")
    assert "first words" in client.get(report.url).content.decode()

    second = add(thread, "second words")
    assert "second words" in client.get(report.url).content.decode(), "a new reply shows at once"

    set_status(second, Reply.Status.TRASH)
    assert "second words" not in client.get(report.url).content.decode(), "a removal shows at once"

    Reply.objects.filter(pk=first.pk).update(body_html="<p>edited words</p>")
    thread.bump_version()
    assert "edited words" in client.get(report.url).content.decode()


def test_answers_to_a_removed_top_level_reply_stay_visible(thread, rules):
    first = add(thread, "first root")
    add(thread, "answer to the first root", parent=first)
    last = add(thread, "last root")
    add(thread, "answer to the last root", parent=last)
    set_status(first, Reply.Status.TRASH)
    set_status(last, Reply.Status.TRASH)

    page = load_thread_page(thread, rules=rules)

    assert bodies(page) == [("answer to the first root", 0), ("answer to the last root", 0)]


def test_paged_threads_keep_orphaned_answers_exactly_once(thread, rules):
    rules.replies_per_page = 2
    roots = [add(thread, f"root {n}") for n in range(6)]
    for n in (0, 2, 5):
        add(thread, f"answer {n}", parent=roots[n])
    for n in (0, 2, 5):
        set_status(roots[n], Reply.Status.TRASH)

    shown = []
    for number in (1, 2):
        shown += [body for body, _depth in bodies(load_thread_page(thread, rules=rules, page_number=number))]
    newest = []
    for number in (1, 2):
        newest += [
            body
            for body, _depth in bodies(load_thread_page(thread, rules=rules, page_number=number, newest_first=True))
        ]

    expected = {"root 1", "root 3", "root 4", "answer 0", "answer 2", "answer 5"}
    assert sorted(shown) == sorted(expected) and len(shown) == len(expected)
    assert sorted(newest) == sorted(expected) and len(newest) == len(expected)


def test_signed_in_reader_without_replies_shares_the_cached_list_and_one_with_replies_does_not(
    client, site_builder, rules
):
    """A reader with no reply on show sees what an anonymous reader sees, from the same cached
    list; as soon as one of their replies is there, their list is their own (no Report link on
    it, Edit and Delete within the window)."""
    from django.contrib.auth import get_user_model

    from speakout.publishing.discussion import thread_for_report

    report = site_builder.report("Shared lists")
    thread = thread_for_report(report)
    other = add(thread, "someone else's words")
    user = get_user_model().objects.create_user("kim", "kim@example.org", "pw")
    client.force_login(user)
    client.get(report.url)  # fills the cached list
    with CaptureQueriesContext(connection) as queries:
        html = client.get(report.url).content.decode()
    assert "someone else's words" in html
    assert f"/discussion/reply/{other.pk}/report/" in html
    assert not any("ORDER BY" in query["sql"] and "body_html" in query["sql"] for query in queries), (
        "the list came from the cache"
    )

    mine = add(thread, "my own words", author=Author(user=user, client_hash="kim"))
    html = client.get(report.url).content.decode()
    assert "my own words" in html and "someone else's words" in html
    assert f"/discussion/reply/{mine.pk}/edit/" in html
    assert f"/discussion/reply/{mine.pk}/report/" not in html
    assert f"/discussion/reply/{mine.pk}/edit/" not in Client().get(report.url).content.decode()


def test_a_large_threads_first_page_reads_only_its_own_replies(thread, rules):
    """Paging by top-level reply: the first page of a long thread reads its top-level replies'
    range and counts the top-level replies; it never reads the rest of the thread."""
    rules.replies_per_page = 5
    rules.save()
    roots = [add(thread, f"root {number}") for number in range(12)]
    for root in roots:
        add(thread, f"answer to {root.pk}", parent=root)
    with CaptureQueriesContext(connection) as queries:
        page = load_thread_page(thread, rules=rules)
    assert page.page_count == 3
    assert len(page.nodes) == 10
    # The first page's roots (and the first root of page 2), the count of roots, the rows.
    assert len(queries) == 3, [query["sql"] for query in queries]
    row_queries = [query["sql"] for query in queries if "body_html" in query["sql"]]
    assert len(row_queries) == 1 and '"path" <' in row_queries[0]

    with CaptureQueriesContext(connection) as queries:
        newest = load_thread_page(thread, rules=rules, newest_first=True)
    assert len(queries) == 3, [query["sql"] for query in queries]
    assert [node.reply.body_html for node in newest.nodes if node.display_depth == 0] == [
        roots[number].body_html for number in range(11, 6, -1)
    ]
    assert len(newest.nodes) == 10
