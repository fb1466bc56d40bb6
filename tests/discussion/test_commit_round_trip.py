"""A reply's last statements (the thread's and commenter's counts) and its COMMIT: one round trip
on PostgreSQL when the reply's transaction is the outermost (services.count_new_reply)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from speakout.discussion.models import Reply, Thread
from speakout.outbox.models import OutgoingMail
from speakout.subscriptions.models import NotifiedReply

from .helpers import post, publishing_rules, report_thread

pytestmark = pytest.mark.django_db(transaction=True)


def sent_statements(action) -> list[str]:
    statements = []

    def keep(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        action()
    return statements


def test_a_reply_commits_with_its_counts_and_its_commit_hooks_run(subscribe):
    publishing_rules()
    thread = report_thread()
    subscribe("reader@example.org", thread=thread)
    results = []
    statements = sent_statements(lambda: results.append(post(thread, email="writer@example.org", body="Stored.")))
    [result] = results
    assert result.ok
    joined = [sql for sql in statements if sql.rstrip().endswith("COMMIT")]
    if connection.vendor == "postgresql":
        [last] = joined
        assert last.startswith("UPDATE") and '"speakout_discussion_thread"' in last
        assert statements.index(last) == len(statements) - 1 - statements[::-1].index(last)
    else:
        assert joined == []
    assert not connection.in_atomic_block and connection.get_autocommit()
    # Committed: another connection sees the reply and its count; the commit's hooks ran (the
    # notification task, which the tests' queue runs at once, queued the follower's mail).
    assert Thread.objects.get(pk=thread.pk).approved_count == 1
    assert Reply.objects.filter(pk=result.reply.pk, status=Reply.Status.APPROVED).exists()
    assert NotifiedReply.objects.get(reply=result.reply).notified_at is not None
    assert OutgoingMail.objects.filter(to="reader@example.org").count() == 1
    # The connection goes on as before.
    again = post(thread, email="another.writer@example.org", body="Stored too.")
    assert again.ok and Thread.objects.get(pk=thread.pk).approved_count == 2


def test_inside_the_callers_transaction_the_reply_waits_for_its_commit(subscribe):
    publishing_rules()
    thread = report_thread()
    statements = []
    with pytest.raises(RuntimeError), transaction.atomic():
        statements = sent_statements(lambda: post(thread, email="writer@example.org", body="Not kept."))
        raise RuntimeError("the caller's work failed")
    assert not any("COMMIT" in sql for sql in statements)
    assert not Reply.objects.exists()
    assert Thread.objects.get(pk=thread.pk).approved_count == 0
