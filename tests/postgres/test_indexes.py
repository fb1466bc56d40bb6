"""What only PostgreSQL runs: `make test` leaves this folder out of the SQLite run and runs it in
the PostgreSQL one (a test here fails, not skips, on another database)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# The tables every reply post and every mail it causes write to.
WRITTEN_PER_REPLY = (
    "speakout_discussion_reply",
    "speakout_discussion_commenter",
    "speakout_subscriptions_notifiedreply",
    "speakout_outbox_outgoingmail",
)


def test_no_like_index_on_the_tables_every_reply_writes():
    """PostgreSQL adds a varchar_pattern_ops index beside every ``unique=True`` or
    ``db_index=True`` text column, for LIKE look-ups; none reads these tables that way, and every
    insert (and, for a mail, its claim and sent mark) wrote an entry in each."""
    assert connection.vendor == "postgresql", "tests/postgres/ runs with DATABASE_URL set to PostgreSQL"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef LIKE %s",
            [list(WRITTEN_PER_REPLY), "%pattern_ops%"],
        )
        assert cursor.fetchall() == []


def test_the_unique_rules_are_kept_as_named_constraints():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'u' AND conrelid = ANY(%s::regclass[])",
            [list(WRITTEN_PER_REPLY)],
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "speakout_commenter_handle_once",
        "speakout_outbox_message_id_once",
        "speakout_outbox_dedupe_key_once",
    } <= names
