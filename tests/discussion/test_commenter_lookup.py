"""The look-up of a first-time writer's address among the commenters, made on every such post."""

from __future__ import annotations

from django.db import connection

from speakout.discussion.models import Commenter, Reply
from tests.queryplans import explain

from .helpers import new_author, post


def test_the_address_look_up_reads_through_its_index(thread, post_reply):
    """Not every commenter: a busy site has a row per first-time writer, and the look-up ran on
    each of their posts (on PostgreSQL a scan of every row, since the case-insensitive comparison
    matched no index)."""
    Commenter.objects.create(email="someone.else@example.org", display_name="Someone else")
    statements = []

    def keep(execute, sql, params, many, context):
        if "speakout_discussion_commenter" in sql and sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        assert post_reply(thread, email="First.Time@Example.org").ok
    (sql, params) = statements[-1]
    assert "speakout_commenter_email_upper" in explain(sql, params)


def test_an_address_held_in_another_case_is_still_kept_apart(thread, post_reply):
    """The typed address reaches no record, in any spelling of its case (DESIGN.md "trust follows
    proof"): the new writer's record is kept without it."""
    held = Commenter.objects.create(email="Held.Address@example.org", display_name="Holder")
    result = post_reply(thread, author=new_author(), email="held.ADDRESS@EXAMPLE.org", body="Mine.")
    assert result.ok
    reply = Reply.objects.get(pk=result.reply.pk)
    assert reply.commenter_id != held.pk
    assert reply.commenter.email == ""
    other = post(thread, author=new_author(), email="free.address@example.org", body="Theirs.")
    assert Reply.objects.get(pk=other.reply.pk).commenter.email == "free.address@example.org"
