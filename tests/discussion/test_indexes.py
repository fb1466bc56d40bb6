"""The reply and commenter tables keep only indexes some query reads through: every reply post
inserts a row in both and writes an entry in each of their indexes (docs/architecture.md)."""

from __future__ import annotations

from django.db import connection

from speakout.discussion.models import Commenter, Reply
from tests.queryplans import plan

from .helpers import add_reply


def single_column_indexes(model) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    found: dict[str, list[str]] = {}
    for name, constraint in constraints.items():
        if (constraint["index"] or constraint["unique"]) and not constraint["primary_key"]:
            if len(constraint["columns"] or []) == 1 and constraint["columns"][0]:
                found.setdefault(constraint["columns"][0], []).append(name)
    return found


def test_no_index_on_columns_only_looked_up_within_a_thread_or_another_index(db):
    """A thread's replies come through the indexes that start with the thread; the importer's
    ids and the client hashes are only read among those, or among a commenter's replies."""
    reply_indexes = single_column_indexes(Reply)
    for column in ("thread_id", "path", "client_hash", "external_id"):
        assert column not in reply_indexes, (column, reply_indexes[column])
    # The address: its partial unique indexes (a proven holder, a claim) and none besides.
    assert sorted(single_column_indexes(Commenter)["email"]) == [
        "speakout_commenter_unique_proven_email",
        "speakout_commenter_unique_typed_email",
    ]


def test_answers_to_a_reply_are_found_through_the_index_of_replies_that_answer_one(thread):
    """The partial index (no entry for a reply that answers nobody) serves every query naming a
    parent: answers counted and alerted, a deleted reply's answers detached."""
    parent = add_reply(thread, body="Parent.")
    add_reply(thread, body="Answer.", parent=parent)
    assert "speakout_reply_parent" in plan(Reply.objects.filter(parent_id=parent.pk))
    assert "speakout_reply_parent" in plan(Reply.objects.filter(parent_id__in=[parent.pk, 0]))


def test_an_account_s_replies_and_record_are_found_through_their_partial_indexes(thread, django_user_model):
    """A guest's reply and record have no entry; an account's are found by it (its data rights,
    its deletion, the export's list of authors)."""
    user = django_user_model.objects.create_user("ada", "ada@example.org", "pw")
    add_reply(thread, body="Signed in.", user=user)
    assert "speakout_reply_user" in plan(Reply.objects.filter(user=user))
    assert "speakout_reply_user" in plan(Reply.objects.filter(user__isnull=False).values_list("user_id").distinct())
    assert "speakout_commenter_user" in plan(Commenter.objects.filter(user=user))


def test_a_retried_submission_is_found_through_its_partial_unique_index(db):
    """Only replies that carry a submission id take an entry (an import, an Isso client or another
    API client sends none); a retry's look-up names one, so it reads through the index."""
    assert "speakout_reply_submission_once" in plan(Reply.objects.filter(submission_id="retried"))
